"""Config validation, variant resolution and per-stage settings of the workflow."""

import json
import re
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

import secret_core.workflow as wf
from secret_core.errors import SecretError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / "config" / name).read_text())


@pytest.fixture
def variants() -> dict:
    return wf.load_variants(ROOT / "config" / "variants.yaml", {})


def test_shipped_configs_validate():
    for name in ("config.yaml", "paper.yaml"):
        wf.validate_config(load(name), SCHEMA, validate)
    micro = yaml.safe_load((ROOT / "tests" / "micro_config.yaml").read_text())
    wf.validate_config(micro, SCHEMA, validate)


def test_omitted_new_keys_take_the_authors_defaults():
    config = load("config.yaml")
    for section, key in (
        ("pretrain", "loss"),
        ("adapt", "loss"),
        ("adapt", "random_erasing"),
        ("model", "bn_groups"),
        ("evaluation", "distance"),
    ):
        del config[section][key]
    wf.validate_config(config, SCHEMA, validate)
    authors = load("paper.yaml")
    for section in ("pretrain", "adapt"):
        # every loss value but lone_anchors, whose default is the former rule (as draw below)
        loss = config[section]["loss"]
        assert loss["triplet"].pop("lone_anchors") == "drop"
        paper_loss = authors[section]["loss"]
        assert paper_loss["triplet"].pop("lone_anchors") == "self"
        assert loss == paper_loss, section
    # every erasing value but the rectangle draw, whose default is the former rule (so that
    # finished epochs keep their params; paper.yaml names the authors')
    erasing = config["adapt"]["random_erasing"]
    assert erasing.pop("draw") == "torchvision"
    assert erasing == {k: v for k, v in authors["adapt"]["random_erasing"].items() if k != "draw"}
    assert (
        config["model"]["bn_groups"] == 1
        and config["evaluation"]["distance"] == "squared_euclidean"
    )


def test_paper_config_has_the_authors_recipe():
    """The faithful choices of the authors' code, spelled out in paper.yaml."""
    paper = load("paper.yaml")
    for stage in ("pretrain", "adapt"):
        loss = paper[stage]["loss"]
        assert loss["triplet"] == {"kind": "soft_margin", "weight": 1.0, "lone_anchors": "self"}
        assert (loss["ce"], loss["label_smoothing"]) == (1.0, 0.1)
    assert paper["adapt"]["loss"]["mean_teacher"] == {
        "ce": 0.5,
        "soft_ce": 0.5,
        "triplet": 0.2,
        "soft_triplet": 0.8,
    }
    assert paper["adapt"]["random_erasing"] == {
        "p": 0.5,
        "area": [0.02, 0.4],
        "aspect_ratio": [0.3, 3.3333333],
        "fill": [0.485, 0.456, 0.406],
        "draw": "authors",
    }
    assert paper["amp"] is False  # the authors train and extract in fp32
    assert (paper["adapt"]["classes"], paper["adapt"]["positives"]) == ("branch", "other_cameras")
    assert paper["model"]["bn_groups"] == 4 and load("config.yaml")["model"]["bn_groups"] == 1
    assert paper["adapt"]["momentum"] == 0.999
    assert paper["evaluation"]["distance"] == "squared_euclidean"
    assert paper["pretrain"]["target_bn"] is True
    assert paper["pretrain"]["detach_local"] is True


@pytest.mark.parametrize(
    ("section", "change", "key"),
    [
        (
            "pretrain",
            {"triplet": {"kind": "soft_margin", "margin": 0.3}},
            "pretrain.loss.triplet.margin",
        ),
        ("adapt", {"triplet": {"kind": "hinge"}}, "adapt.loss.triplet.margin"),
        ("adapt", {"triplet": {"kind": "cosine"}}, "adapt.loss.triplet.kind"),
        ("adapt", {"mean_teacher": {"soft_ce": -1}}, "adapt.loss.mean_teacher.soft_ce"),
        ("pretrain", {"mean_teacher": {"ce": 0.5}}, "mean_teacher"),
    ],
)
def test_bad_loss_settings_stop_the_workflow_with_one_line(section, change, key):
    config = load("config.yaml")
    config[section]["loss"] = {**config[section]["loss"], **change}
    with pytest.raises(SecretError) as info:
        wf.validate_config(config, SCHEMA, validate)
    message = str(info.value)
    assert key in message and "\n" not in message


def test_bad_random_erasing_and_old_keys_are_one_line_errors():
    config = load("config.yaml")
    config["adapt"]["random_erasing"] = {"p": 0.5, "area": [0.4, 0.02]}
    with pytest.raises(SecretError, match=r"adapt\.random_erasing\.area"):
        wf.validate_config(config, SCHEMA, validate)
    config = load("config.yaml")
    config["pretrain"]["margin"] = 0.3  # the replaced key: pretrain.loss.triplet now
    with pytest.raises(SecretError, match=r"'margin'.*pretrain"):
        wf.validate_config(config, SCHEMA, validate)


def test_max_distance_default_is_the_library_one(variants):
    """No schema default of its own (it once said 0.95 while the functions said 1): a config
    without adapt.max_distance gives the cluster stage secret_core.MAX_DISTANCE."""
    from secret_core import MAX_DISTANCE

    schema = yaml.safe_load(SCHEMA.read_text())
    assert "default" not in schema["properties"]["adapt"]["properties"]["max_distance"]
    config = load("config.yaml")
    del config["adapt"]["max_distance"]
    wf.validate_config(config, SCHEMA, validate)
    assert "max_distance" not in config["adapt"]
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1"}
    cluster = wf.stage_settings(config, variants, "cluster", {**wc, "epoch": "001", "space": "top"})
    assert cluster["max_distance"] == MAX_DISTANCE == 1.0


def test_unknown_key_is_one_line_naming_it():
    config = load("config.yaml")
    config["adapt"]["epochz"] = 3
    with pytest.raises(SecretError) as info:
        wf.validate_config(config, SCHEMA, validate)
    message = str(info.value)
    assert "\n" not in message
    assert "'epochz'" in message and "adapt" in message


def test_mistyped_value_names_the_key():
    config = load("config.yaml")
    config["adapt"]["denominator"] = "everything"
    with pytest.raises(SecretError, match=r"adapt\.denominator"):
        wf.validate_config(config, SCHEMA, validate)


def test_k_suffix_sweeps_strictness(variants):
    assert wf.resolve_variant(variants, "secret_k0.7")["k"] == pytest.approx(0.7)
    assert wf.resolve_variant(variants, "secret_mt_k0.1")["mean_teacher"] is True
    with pytest.raises(SecretError, match="unknown variant 'nope'"):
        wf.resolve_variant(variants, "nope")


def test_config_variants_override_catalogue(tmp_path):
    merged = wf.load_variants(
        ROOT / "config" / "variants.yaml", {"secret": {"label": "mine"}, "new": {"label": "x"}}
    )
    assert merged["secret"]["label"] == "mine"
    assert merged["secret"]["refine"] == "mutual"
    assert "new" in merged


def test_clustered_spaces_follow_variant(variants):
    assert wf.clustered_spaces(variants, "baseline") == ["global"]
    assert wf.clustered_spaces(variants, "naive_secret")[0] == "concat"
    assert wf.clustered_spaces(variants, "secret") == ["global", "top", "bottom"]


def test_eval_epochs_include_start_and_end():
    config = load("config.yaml")
    config["adapt"].update(epochs=5, eval_every=2)
    assert wf.eval_epochs(config, "uda") == [0, 2, 4, 5]


@pytest.mark.parametrize(
    ("every", "kept", "temporary"),
    [(1, [1, 2, 3, 4, 5], []), (2, [2, 4, 5], [1, 3]), (0, [5], [1, 2, 3, 4])],
)
def test_checkpoint_epochs_keep_every_nth_and_the_last(every, kept, temporary):
    config = load("config.yaml")
    config.pop("usl_datasets")
    config["adapt"].update(epochs=5, eval_every=5)
    config["keep_checkpoints_every"] = every
    assert wf.checkpoint_epochs(config) == (kept, temporary)


def test_checkpoint_epochs_keep_every_evaluated_epoch():
    """A changed evaluation setting must find its checkpoint, not recompute the chain."""
    config = load("config.yaml")
    config.pop("usl_datasets")
    config["adapt"].update(epochs=7, eval_every=3)
    config["keep_checkpoints_every"] = 0
    assert wf.checkpoint_epochs(config) == ([3, 6, 7], [1, 2, 4, 5])


def test_checkpoint_epochs_keep_the_last_epoch_of_each_setting():
    config = load("config.yaml")
    config["adapt"].update(epochs=4, eval_every=4)
    config["usl"].update(epochs=3, eval_every=3)
    config["keep_checkpoints_every"] = 0
    assert wf.checkpoint_epochs(config) == ([3, 4], [1, 2])


def test_epoch_pattern_matches_exactly_the_listed_epochs():
    pattern = re.compile(f"(?:{wf.epoch_pattern([2, 10])})$")
    assert pattern.match("002") and pattern.match("010")
    assert not pattern.match("001") and not pattern.match("020")
    assert not re.match(wf.epoch_pattern([]), "001")


def test_usl_overrides_adapt():
    config = load("paper.yaml")
    assert wf.adapt_settings(config, "usl")["eps"] == 0.6
    assert wf.adapt_settings(config, "uda")["eps"] == "auto"


def test_stage_settings_are_narrow(variants):
    config = load("config.yaml")
    wc = {
        "setting": "uda",
        "task": "duke2market",
        "variant": "secret",
        "seed": "1",
        "epoch": "002",
        "space": "top",
    }
    cluster = wf.stage_settings(config, variants, "cluster", wc)
    assert cluster["space"] == "top" and "lr" not in cluster
    refine = wf.stage_settings(config, variants, "refine", wc)
    assert refine["k"] == 0.4 and "iterations" not in refine
    evaluate = wf.stage_settings(config, variants, "evaluate", wc)
    assert "k" not in evaluate and evaluate["eta"] == 1.0
    assert evaluate["distance"] == "squared_euclidean"
    finetune = wf.stage_settings(config, variants, "finetune", wc)
    loss = {k: v for k, v in config["adapt"]["loss"].items() if k != "mean_teacher"}
    assert finetune["loss"] == wf.canonical(loss)  # no teacher: no teacher weights
    assert finetune["random_erasing"]["area"] == [0.02, 0.4] and "momentum" not in finetune
    pretrain = wf.stage_settings(
        config,
        variants,
        "pretrain",
        {"dataset": "synth_duke", "bn_domain": "synth_duke", "seed": "1"},
    )
    assert pretrain["pretrain"]["loss"]["triplet"]["kind"] == "soft_margin"
    # changing evaluation settings must not change training settings (no needless reruns)
    before = wf.stage_settings(config, variants, "finetune", wc)
    config["evaluation"]["eta"] = 2.0
    assert wf.stage_settings(config, variants, "finetune", wc) == before


def test_missing_real_dataset_is_one_clear_error(tmp_path):
    config = load("paper.yaml")
    config["data_root"] = str(tmp_path)
    with pytest.raises(SecretError) as info:
        wf.check_datasets(config)
    assert str(tmp_path) in str(info.value)
    assert "\n" not in str(info.value)


def test_table_inputs_cover_tasks_variants_and_seeds(variants):
    config = load("config.yaml")
    config["seeds"] = [1, 2]
    inputs = wf.table_inputs(config, variants, "table1")
    assert len(inputs) == len(config["tasks"]) * 2 * 2
    assert "results/uda/duke2market/secret_mt/seed2/summary.json" in inputs


def reversed_keys(value):
    if isinstance(value, dict):
        return {key: reversed_keys(value[key]) for key in reversed(list(value))}
    return value


@pytest.mark.parametrize(
    "stage", ["pretrain", "extract", "cluster", "refine", "finetune", "evaluate", "summary"]
)
def test_settings_do_not_depend_on_key_order(variants, stage):
    """Snakemake reruns a job whose params differ in key order only; ours never do."""
    config = load("config.yaml")
    shuffled = reversed_keys(config)
    wildcards = {"setting": "uda", "task": "duke2market", "variant": "secret_mt", "seed": "1"}
    if stage not in ("pretrain", "summary"):
        wildcards["epoch"] = "002"
    if stage == "cluster":
        wildcards["space"] = "top"
    if stage == "pretrain":
        wildcards = {"dataset": "synth_duke", "bn_domain": "synth_market", "seed": "1"}
    first = wf.stage_settings(config, variants, stage, wildcards)
    second = wf.stage_settings(shuffled, variants, stage, wildcards)
    assert json.dumps(first) == json.dumps(second)


def test_figure5_draws_the_mean_teacher_runs(variants):
    """The paper draws every Figure 5 curve with the mean teacher."""
    config = load("config.yaml")
    experiments = wf.figure_experiments(config, "fig5")
    names = {e["variant"] for e in experiments}
    assert names == {"secret_mt", "secret_mr_mt", "naive_secret_mt"}
    for name in names:
        assert wf.resolve_variant(variants, name)["mean_teacher"] is True
    mr, naive = variants["secret_mr_mt"], variants["naive_secret_mt"]
    assert (mr["refine"], mr["cluster_on"]) == ("none", "separate")
    assert (naive["refine"], naive["cluster_on"]) == ("none", "concat")


# --------------------------------------------------------------------------- command-line values
def test_nested_command_line_strings_become_the_numbers_the_schema_wants():
    """`--config 'adapt={k: 0.6}'` reaches the workflow as {"adapt": {"k": "0.6"}}."""
    config = load("config.yaml")
    config["adapt"].update(k="0.6", epochs="3", eps="0.5", lr_steps=[["2", "0.1"]])
    config["amp"] = "false"
    config["evaluation"].update(eta="0.5", eta_sweep=["0", "1.5"], rerank="True")
    config["pretrain"]["loss"]["triplet"] = {"kind": "hinge", "margin": "0.3", "weight": "2"}
    config["seeds"] = ["1", "2"]
    wf.validate_config(config, SCHEMA, validate)
    assert config["adapt"]["k"] == 0.6 and config["adapt"]["epochs"] == 3
    assert config["adapt"]["eps"] == 0.5 and config["adapt"]["lr_steps"] == [[2, 0.1]]
    assert config["amp"] is False and config["evaluation"]["rerank"] is True
    assert config["evaluation"]["eta"] == 0.5 and config["evaluation"]["eta_sweep"] == [0.0, 1.5]
    triplet = config["pretrain"]["loss"]["triplet"]
    assert triplet == {"kind": "hinge", "margin": 0.3, "weight": 2, "lone_anchors": "drop"}
    assert config["seeds"] == [1, 2]


def test_strings_the_schema_takes_as_strings_stay_strings():
    config = load("config.yaml")
    config["adapt"]["eps"] = "auto"
    config["device"] = "cpu"
    config["datasets"]["synth_duke"]["synthetic"]["style"] = "123"
    wf.validate_config(config, SCHEMA, validate)
    assert config["adapt"]["eps"] == "auto" and config["device"] == "cpu"
    assert config["datasets"]["synth_duke"]["synthetic"]["style"] == "123"


def test_a_string_that_is_no_number_is_still_one_clear_error():
    config = load("config.yaml")
    config["adapt"]["k"] = "high"
    with pytest.raises(SecretError, match=r"adapt\.k"):
        wf.validate_config(config, SCHEMA, validate)


def test_command_line_nested_dict_merges_into_the_config():
    """What Snakemake does with --config adapt={k: 0.6}: parse, then merge key by key."""
    from snakemake.cli import parse_config
    from snakemake.utils import update_config

    config = load("config.yaml")
    update_config(config, parse_config(["adapt={k: 0.6}"]))
    wf.validate_config(config, SCHEMA, validate)
    assert config["adapt"]["k"] == 0.6
    assert config["adapt"]["epochs"] == load("config.yaml")["adapt"]["epochs"]


def test_an_overlay_points_the_demos_datasets_at_folders(tmp_path):
    """The demo's recipe on other images: a second config file naming the demo's datasets
    with a path merges into their synthetic entries (Snakemake merges key by key); the
    folder wins, the stage settings read it, and one notice per dataset says so."""
    from snakemake.utils import update_config

    config = load("config.yaml")
    overlay = {
        "data_root": str(tmp_path),
        "datasets": {"synth_market": {"path": "target", "layout": "market1501"}},
    }
    update_config(config, overlay)
    assert set(config["datasets"]["synth_market"]) == {"synthetic", "path", "layout"}
    notices = wf.validate_config(config, SCHEMA, validate)
    assert config["datasets"]["synth_market"] == {"path": "target", "layout": "market1501"}
    assert wf.dataset_path(config, "synth_market") == tmp_path / "target"
    assert "synthetic" in config["datasets"]["synth_duke"]  # untouched
    assert len(notices) == 1 and "'synth_market'" in notices[0] and "'target'" in notices[0]
    assert wf.validate_config(load("config.yaml"), SCHEMA, validate) == []


def test_a_dataset_without_path_or_synthetic_is_one_line():
    config = load("config.yaml")
    config["datasets"]["synth_market"] = {"layout": "market1501"}
    with pytest.raises(SecretError) as info:
        wf.validate_config(config, SCHEMA, validate)
    message = str(info.value)
    assert "datasets.synth_market" in message and "'path'" in message and "\n" not in message


def test_every_missing_dataset_is_named_in_one_line(tmp_path):
    config = load("paper.yaml")
    config["data_root"] = str(tmp_path)
    with pytest.raises(SecretError) as info:
        wf.check_datasets(config)
    message = str(info.value)
    assert "\n" not in message
    for name in config["datasets"]:
        assert f"dataset '{name}'" in message


def test_unknown_task_names_the_known_tasks():
    config = load("config.yaml")
    with pytest.raises(SecretError, match=r"unknown task 'duke2markt'.*duke2market"):
        wf.task_entry(config, "duke2markt")


def test_adapt_iterations_takes_a_count_or_auto():
    config = load("config.yaml")
    assert config["adapt"]["iterations"] == "auto"  # the authors' two samples per image
    config["adapt"]["iterations"] = "40"  # as `--config 'adapt={iterations: 40}'` gives it
    wf.validate_config(config, SCHEMA, validate)
    assert config["adapt"]["iterations"] == 40
    config["adapt"]["iterations"] = "many"
    with pytest.raises(SecretError, match=r"adapt\.iterations"):
        wf.validate_config(config, SCHEMA, validate)


def test_draws_cap_is_null_or_a_positive_number():
    """adapt.max_draws_per_image: null in both shipped configs (the authors' iterations
    whatever trains); a number from the command line becomes one; zero is a one-line error."""
    assert load("paper.yaml")["adapt"]["max_draws_per_image"] is None
    config = load("config.yaml")
    assert config["adapt"]["max_draws_per_image"] is None
    config["adapt"]["max_draws_per_image"] = "20"  # as `--config 'adapt={max_draws_per_image: 20}'`
    wf.validate_config(config, SCHEMA, validate)
    assert config["adapt"]["max_draws_per_image"] == 20
    for bad in (0, -2, "many"):
        config["adapt"]["max_draws_per_image"] = bad
        with pytest.raises(SecretError, match=r"adapt\.max_draws_per_image") as info:
            wf.validate_config(config, SCHEMA, validate)
        assert "\n" not in str(info.value)


def test_pretrain_iterations_take_a_count_passes_or_auto():
    config = load("config.yaml")
    assert config["pretrain"]["iterations"] == {"passes": 27.5}
    assert load("paper.yaml")["pretrain"]["iterations"] == 100  # the authors' count
    for good in ("auto", 30, {"passes": 40}):
        config["pretrain"]["iterations"] = good
        wf.validate_config(config, SCHEMA, validate)
    for bad in ("many", {"passes": 0}, {"passes": 3, "epochs": 2}):
        config["pretrain"]["iterations"] = bad
        with pytest.raises(SecretError, match=r"pretrain\.iterations"):
            wf.validate_config(config, SCHEMA, validate)


def test_profiles_set_resources_of_existing_rules():
    """A profile's per-rule resources name rules of the workflow: Snakemake ignores a stale
    name silently, so a renamed rule would run with the default memory on a cluster."""
    text = "\n".join(p.read_text() for p in [ROOT / "Snakefile", *ROOT.glob("rules/*.smk")])
    rules = set(re.findall(r"^rule (\w+):", text, flags=re.M))
    rules |= set(re.findall(r"^use rule \w+ as (\w+)", text, flags=re.M))
    for profile in (ROOT / "profiles").glob("*/config.yaml"):
        named = yaml.safe_load(profile.read_text()).get("set-resources") or {}
        assert set(named) <= rules, f"{profile}: {sorted(set(named) - rules)} are not rules"


@pytest.mark.parametrize(
    ("per_job", "spans"),
    [(1, [(1, 1), (2, 2), (3, 3)]), (2, [(1, 2), (3, 3)]), (6, [(1, 3)])],
)
def test_epoch_spans_cover_every_epoch_once_from_epoch_one(per_job, spans):
    config = load("config.yaml")
    config.pop("usl_datasets")
    config["adapt"]["epochs"] = 3
    config["epochs_per_job"] = per_job
    assert [(s.setting, s.first, s.last) for s in wf.epoch_spans(config)] == [
        ("uda", first, last) for first, last in spans
    ]
    for span in wf.epoch_spans(config):
        assert all(wf.span_of(config, "uda", e) == span for e in span.epochs)


def test_raising_the_epochs_keeps_every_full_span():
    """Spans start at fixed epochs, so more epochs change only a short last span."""
    config = load("config.yaml")
    config["epochs_per_job"] = 6
    config["adapt"]["epochs"] = 15
    before = wf.epoch_spans(config)
    config["adapt"]["epochs"] = 24
    after = wf.epoch_spans(config)
    assert [s.name for s in before if s.setting == "uda"] == ["001-006", "007-012", "013-015"]
    assert before[:2] == after[:2] and after[2].name == "013-018"
    assert [s.name for s in after if s.setting == "usl"] == ["001-006"]  # usl: its own 6


def test_epoch_wildcards_read_as_snakemakes():
    wc = wf.epoch_wildcards({"setting": "uda", "task": "t", "variant": "v", "seed": "1"}, 7)
    assert wc.epoch == wc["epoch"] == "007" and wc.task == "t"
    with pytest.raises(AttributeError):
        _ = wc.space
