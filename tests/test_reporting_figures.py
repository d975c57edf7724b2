"""Figure rules on fabricated per-epoch records: the files exist and open."""

import json

import numpy as np
import pytest
from PIL import Image

from secret_core.pipeline.reports import make_figure
from secret_core.reporting.figures import epoch_series, k_series


def summary(task: str, variant: str, seed: int, level: float) -> dict:
    rows = []
    for epoch in range(0, 5):
        row = {
            "epoch": epoch,
            "global_mAP": level + 0.01 * epoch + 0.001 * seed,
            "global_rank1": level + 0.1,
            "joint_mAP": level,
        }
        if epoch:
            row |= {"consistency": 0.8 + 0.02 * epoch, "global_refined_accuracy": 0.7}
        rows.append(row)
    final = {"global": {"mAP": level + 0.04 + 0.001 * seed, "rank1": 0.9}}
    return {
        "run": {"setting": "uda", "task": task, "variant": variant, "seed": seed},
        "variant": {"label": variant},
        "epochs": rows,
        "final": final,
        "final_eta_sweep": {"0": {"mAP": level}, "1": {"mAP": level + 0.02}},
    }


def write(tmp_path, summaries) -> list[str]:
    paths = []
    for i, s in enumerate(summaries):
        path = tmp_path / f"s{i}.json"
        path.write_text(json.dumps(s))
        paths.append(str(path))
    return paths


def test_epoch_series_mean_and_std():
    runs = [summary("t", "secret", 1, 0.5), summary("t", "secret", 2, 0.5)]
    epochs, mean, std = epoch_series(runs, "consistency")
    assert epochs.tolist() == [1, 2, 3, 4]
    assert np.allclose(mean, [0.82, 0.84, 0.86, 0.88])
    epochs, mean, std = epoch_series(runs, "global_mAP")
    assert std[0] == pytest.approx(np.std([0.501, 0.502], ddof=1))


def test_k_series_reads_final_global_map():
    ks, mean, _ = k_series(
        {0.2: [summary("t", "secret_k0.2", 1, 0.3)], 0.4: [summary("t", "secret_k0.4", 1, 0.5)]}
    )
    assert ks.tolist() == [0.2, 0.4] and mean.tolist() == pytest.approx([34.1, 54.1])


@pytest.mark.parametrize("name", ["fig1c", "fig5", "fig6", "fig7"])
def test_every_figure_renders(tmp_path, name):
    variants = {
        "fig1c": ["sup", "secret_mr"],
        "fig5": ["secret_mt", "secret_mr_mt", "naive_secret_mt"],
        "fig6": ["secret"],
        "fig7": ["secret_k0.2", "secret_k0.4"],
    }[name]
    summaries = [
        summary("d2m", v, s, 0.4 + 0.1 * i) for i, v in enumerate(variants) for s in (1, 2)
    ]
    png, pdf = tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"
    make_figure(
        write(tmp_path, summaries),
        {"name": name, "task": "d2m", "k_sweep": [0.2, 0.4], "k": 0.3},
        str(png),
        str(pdf),
    )
    with Image.open(png) as img:
        assert img.size[0] > 300 and img.size[1] > 200
    assert pdf.read_bytes().startswith(b"%PDF")


def test_a_concatenation_trained_run_draws_its_concatenation_curve():
    from secret_core.reporting.figures import epoch_series

    rows = [{"epoch": 1, "global_mAP": 0.5, "concat_mAP": 0.7, "consistency": 0.9}]
    naive = {"variant": {"loss_on": "concat"}, "epochs": rows}
    plain = {"variant": {}, "epochs": rows}
    assert epoch_series([naive], "global_mAP")[1].tolist() == [0.7]
    assert epoch_series([plain], "global_mAP")[1].tolist() == [0.5]
    assert epoch_series([naive], "consistency")[1].tolist() == [0.9]
