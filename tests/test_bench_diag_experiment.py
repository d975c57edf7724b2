"""benchmarks/diag_experiment.py runs an experiment in one process with the rules' layout."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_driver_writes_history_with_diagnosis_columns(tmp_path):
    config = ROOT / "tests" / "micro_config.yaml"
    task = next(iter(yaml.safe_load(config.read_text())["tasks"]))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "diag_experiment.py"), "--configfile"]
    cmd += [str(config), "--out", str(tmp_path), "--task", task, "--variants", "secret"]
    subprocess.run(cmd, check=True, cwd=ROOT, capture_output=True)
    history = tmp_path / "results" / "uda" / task / "secret" / "seed1" / "history.csv"
    rows = list(csv.DictReader(history.read_text().splitlines()))
    assert all(row["global_mAP"] for row in rows)  # evaluated every epoch
    assert {"coverage", "trained_accuracy", "passes", "global_train_accuracy"} <= set(rows[1])


def test_teacher_features_repeat_the_runs_own_labelling_and_evaluation(tmp_path):
    """The teacher's count is the count the run itself trained on at the next epoch, and the
    teacher's final mAP is the one the run reported: the four-way swap starts from the run."""
    config = ROOT / "tests" / "micro_config.yaml"
    task = next(iter(yaml.safe_load(config.read_text())["tasks"]))
    run = [sys.executable, str(ROOT / "benchmarks" / "diag_experiment.py"), "--configfile"]
    run += [str(config), "--out", str(tmp_path), "--task", task, "--variants", "secret_mt"]
    subprocess.run(run, check=True, cwd=ROOT, capture_output=True)
    diag = [sys.executable, str(ROOT / "benchmarks" / "diag_teacher_features.py"), "--configfile"]
    diag += [str(config), "--out", str(tmp_path), "--task", task, "--epochs", "1", "--final"]
    out = subprocess.run(diag, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    exp = tmp_path / "results" / "uda" / task / "secret_mt" / "seed1"
    counts = next(line for line in out.splitlines() if " epoch 1: " in line)
    teacher, *others = (int(x) for x in counts.split(": ")[1].split(", "))
    assert len(others) == 3
    assert teacher == json.loads((exp / "epoch_002" / "refine.json").read_text())["trained_samples"]
    final = next(line for line in out.splitlines() if "final mAP" in line)
    reported = json.loads((exp / "epoch_002" / "eval.json").read_text())
    teacher_map = float(final.split("teacher ")[1].split(",")[0])
    assert teacher_map == round(100 * reported["features"]["global"]["mAP"], 2)


def test_overlays_merge_as_snakemake_merges_configfiles(tmp_path):
    """An overlay replaces only the keys it names, nested ones key by key, and later files
    win, as ``snakemake --configfile A B`` does; the camera-shift overlay validates."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from diag_experiment import load_config

    first = tmp_path / "lr.yaml"
    first.write_text("adapt: {lr: 2.0e-4, k: 0.3}\n")
    second = tmp_path / "k.yaml"
    second.write_text("adapt: {k: 0.6}\n")
    base = ROOT / "config" / "config.yaml"
    config, _ = load_config([str(base), str(first), str(second)])
    default, _ = load_config(str(base))
    assert (config["adapt"]["lr"], config["adapt"]["k"]) == (2.0e-4, 0.6)
    assert config["adapt"]["k1"] == default["adapt"]["k1"]
    assert config["datasets"] == default["datasets"]
    shifted, _ = load_config([str(base), str(ROOT / "benchmarks" / "camera_shift.yaml")])
    for name in ("duke_camshift", "market_camshift"):
        task = shifted["tasks"][name]
        source, target = (shifted["datasets"][task[k]]["synthetic"] for k in ("source", "target"))
        assert source["style"] == target["style"] and source["seed"] != target["seed"]
    assert shifted["adapt"] == default["adapt"]
    overlays = [
        str(ROOT / "benchmarks" / name) for name in ("camera_shift.yaml", "weak_start.yaml")
    ]
    weak, _ = load_config([str(base), *overlays])
    assert weak["pretrain"]["iterations"] == {"passes": 5.5}
    assert weak["pretrain"]["epochs"] == default["pretrain"]["epochs"]
    assert weak["tasks"] == shifted["tasks"]
    overlays[-1] = str(ROOT / "benchmarks" / "weakest_start.yaml")
    weakest, _ = load_config([str(base), *overlays])
    assert weakest["pretrain"]["iterations"] == {"passes": 1.5}
    assert weakest["adapt"] == default["adapt"]
    sized = [*overlays[:-1], str(ROOT / "benchmarks" / "real_trial_size.yaml")]
    half = str(ROOT / "benchmarks" / "half_pass_start.yaml")
    large, _ = load_config([str(base), *sized, half])
    for name in ("duke_camshift", "market_camshift"):
        for side in ("source", "target"):
            spec = large["datasets"][large["tasks"][name][side]]["synthetic"]
            shifted_spec = shifted["datasets"][shifted["tasks"][name][side]]["synthetic"]
            assert spec == {**shifted_spec, "num_ids": 300}  # only the size changes
    assert large["pretrain"]["iterations"] == {"passes": 0.5}
    assert large["adapt"] == default["adapt"]
    one = str(ROOT / "benchmarks" / "one_pass_start.yaml")
    between, _ = load_config([str(base), *sized, one])
    assert between["pretrain"]["iterations"] == {"passes": 1.0}
    assert {**between["pretrain"], "iterations": {"passes": 0.5}} == large["pretrain"]
    assert {**between, "pretrain": large["pretrain"]} == large  # only the passes differ


def test_teacher_stream_overlay_runs_the_mean_teacher_under_secrets_name():
    """The overlay of DEMO_EFFECT section 35 makes `secret` the mean teacher, and nothing else:
    the same entry as `secret_mt` but for its label, and the same config."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from diag_experiment import load_config

    base = str(ROOT / "config" / "config.yaml")
    overlay = str(ROOT / "benchmarks" / "teacher_on_secret_stream.yaml")
    config, variants = load_config([base, overlay])
    default, default_variants = load_config(base)
    assert not default_variants["secret"]["mean_teacher"]
    assert variants["secret"]["mean_teacher"]
    mean_teacher = dict(default_variants["secret_mt"], label=variants["secret"]["label"])
    assert variants["secret"] == mean_teacher
    assert {k: v for k, v in config.items() if k != "variants"} == default


def test_four_samples_overlay_doubles_only_the_target_budget():
    """The overlay of DEMO_EFFECT section 36 changes adapt.iterations and nothing else, and
    gives 87 iterations on a 696-image target where auto gives 44."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from diag_experiment import load_config

    from secret_core.data.sampler import iterations_per_epoch

    base = str(ROOT / "config" / "config.yaml")
    overlay = str(ROOT / "benchmarks" / "four_samples_per_image.yaml")
    config, variants = load_config([base, overlay])
    default, default_variants = load_config(base)
    assert variants == default_variants
    assert config["adapt"]["iterations"] == {"samples_per_image": 4}
    assert {**config["adapt"], "iterations": "auto"} == default["adapt"]
    assert {k: v for k, v in config.items() if k != "adapt"} == {
        k: v for k, v in default.items() if k != "adapt"
    }
    batch = config["adapt"]["batch_size"]
    assert iterations_per_epoch(config["adapt"]["iterations"], 696, batch) == 87
    assert iterations_per_epoch(default["adapt"]["iterations"], 696, batch) == 44


def test_carry_overlay_changes_only_the_optimizer_state():
    """The overlay of DEMO_EFFECT section 37 sets adapt.optimizer_state and nothing else, and
    the setting reaches the fine-tuning params (the default leaves the key out of them)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from diag_experiment import load_config

    import secret_core.workflow as wf

    base = str(ROOT / "config" / "config.yaml")
    config, variants = load_config([base, str(ROOT / "benchmarks" / "carry_optimizer_state.yaml")])
    default, _ = load_config(base)
    assert config["adapt"]["optimizer_state"] == "carry"
    assert {**config["adapt"], "optimizer_state": "fresh"} == default["adapt"]
    assert {k: v for k, v in config.items() if k != "adapt"} == {
        k: v for k, v in default.items() if k != "adapt"
    }
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "3"}
    assert wf.stage_settings(config, variants, "finetune", wc)["optimizer_state"] == "carry"
    assert "optimizer_state" not in wf.stage_settings(default, variants, "finetune", wc)


def test_draws_cap_overlay_changes_only_the_cap_and_reaches_fine_tuning():
    """The overlay of DEMO_EFFECT section 53 sets adapt.max_draws_per_image and nothing else;
    the cap reaches the fine-tuning params, and the default's null (the authors') stays out of
    them, so epochs finished before the key existed are not rerun."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from diag_experiment import load_config

    import secret_core.workflow as wf

    base = str(ROOT / "config" / "config.yaml")
    config, variants = load_config([base, str(ROOT / "benchmarks" / "draws_cap.yaml")])
    default, _ = load_config(base)
    assert config["adapt"]["max_draws_per_image"] == 20
    assert {**config["adapt"], "max_draws_per_image": None} == default["adapt"]
    assert {k: v for k, v in config.items() if k != "adapt"} == {
        k: v for k, v in default.items() if k != "adapt"
    }
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1", "epoch": "3"}
    assert wf.stage_settings(config, variants, "finetune", wc)["max_draws_per_image"] == 20
    assert "max_draws_per_image" not in wf.stage_settings(default, variants, "finetune", wc)
    cluster = wf.stage_settings(config, variants, "cluster", {**wc, "space": "global"})
    assert "max_draws_per_image" not in cluster


def test_restart_kick_is_one_lr_per_weight_and_carrying_removes_it(tmp_path):
    """benchmarks/adam_restart_kick.py on a two-epoch carry run: the fresh Adam's first step
    has norm lr x sqrt(weights) (every weight moves by the lr, worked by hand in
    test_engine_optim.py). With carried moments the first step of epoch 2 continues epoch 1's
    three (micro config), as a single Adam's fourth step would: about half the kick."""
    import re

    from secret_core.modeling import build_model

    config = ROOT / "tests" / "micro_config.yaml"
    overlay = ROOT / "benchmarks" / "carry_optimizer_state.yaml"
    task = next(iter(yaml.safe_load(config.read_text())["tasks"]))
    driver = [sys.executable, str(ROOT / "benchmarks" / "diag_experiment.py"), "--configfile"]
    driver += [str(config), str(overlay), "--out", str(tmp_path), "--task", task]
    subprocess.run(driver, check=True, cwd=ROOT, capture_output=True)
    kick = [sys.executable, str(ROOT / "benchmarks" / "adam_restart_kick.py"), "--configfile"]
    kick += [str(config), str(overlay), "--out", str(tmp_path), "--task", task, "--epoch", "2"]
    out = subprocess.run(kick, check=True, cwd=ROOT, capture_output=True, text=True).stdout
    first = {
        rule: float(step) for rule, step in re.findall(r"(fresh|carry): steps 1-5 ([0-9.]+)", out)
    }
    model = build_model("resnet_tiny", 2)
    weights = sum(
        p.numel() for n, p in model.named_parameters() if p.requires_grad and "classifier" not in n
    )
    assert first["fresh"] == pytest.approx(3.5e-4 * weights**0.5, rel=0.02)
    assert first["carry"] < 0.7 * first["fresh"]
