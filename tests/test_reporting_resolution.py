"""Paired standard errors over queries and over seeds: hand-worked values and the table note."""

import math

import numpy as np
import pytest

from secret_core.errors import SecretError
from secret_core.reporting.resolution import paired_gap, query_aps, seed_gap


def test_paired_gap_hand_worked():
    # per-query differences 0.5, 0, -0.5: mean 0, sample std 0.5, SE 0.5 / sqrt(3)
    gap, se, n = paired_gap([np.array([1.0, 0.5, 0.0])], [np.array([0.5, 0.5, 0.5])])
    assert gap == pytest.approx(0.0) and n == 3
    assert se == pytest.approx(100 * 0.5 / math.sqrt(3))


def test_paired_gap_averages_the_seeds_per_query_first():
    """Seed 1 gains on query 0 and seed 2 on query 1 by the same 0.2: each query's mean
    difference is 0.1, so the seed-mean gap is 10 points with no spread over queries."""
    big = [np.array([0.7, 0.5]), np.array([0.5, 0.7])]
    small = [np.array([0.5, 0.5]), np.array([0.5, 0.5])]
    gap, se, _ = paired_gap(big, small)
    assert gap == pytest.approx(10.0) and se == pytest.approx(0.0)


def test_paired_gap_rejects_rows_from_different_test_sets():
    with pytest.raises(SecretError, match="different test sets"):
        paired_gap([np.zeros(3)], [np.zeros(4)])
    with pytest.raises(SecretError, match="one AP array per seed"):
        paired_gap([np.zeros(3)], [])


def test_query_aps_is_none_for_summaries_without_them():
    assert query_aps({"final": {"global": {"mAP": 0.5}}}, "global") is None
    aps = query_aps({"final": {"global": {"mAP": 0.5, "ap": [0.25, 0.75]}}}, "global")
    assert aps.tolist() == [0.25, 0.75]


def run(seed: int, aps: list[float], variant: dict | None = None) -> dict:
    block = {"global": {"mAP": float(np.mean(aps)), "rank1": 1.0, "ap": aps}}
    if variant and variant.get("loss_on") == "concat":
        block["concat"] = block.pop("global")
    return {"run": {"seed": seed}, "variant": variant or {}, "final": block, "start": block}


def test_query_noise_note_pairs_seeds_and_uses_each_rows_ranking_feature():
    from secret_core.pipeline.reports import query_noise_note

    summaries = {
        # seeds listed in different orders: pairing goes by seed, not by position
        ("d2m", "baseline"): [run(1, [0.5, 0.5, 0.5, 0.5]), run(2, [0.4, 0.4, 0.4, 0.4])],
        ("d2m", "secret"): [run(2, [0.4, 0.4, 0.4, 0.4]), run(1, [0.7, 0.5, 0.7, 0.5])],
        ("d2m", "naive_secret"): [
            run(1, [0.5, 0.5, 0.5, 0.9], {"loss_on": "concat"}),
            run(2, [0.4, 0.4, 0.4, 0.4], {"loss_on": "concat"}),
        ],
        ("m2d", "secret"): [run(1, [0.5, 0.5])],  # no Baseline: left out
    }
    note = query_noise_note(summaries)
    # SECRET: per-query mean differences 0.1, 0, 0.1, 0 -> gap 5.0, SE 2.9
    # naive SECRET (its concatenation): differences 0, 0, 0, 0.2 -> SE 5.0
    assert "d2m (4 queries) 2.9-5.0, SECRET - Baseline +5.0 ± 2.9" in note
    assert "m2d" not in note
    old = {("d2m", "baseline"): [{"run": {"seed": 1}, "final": {"global": {"mAP": 0.5}}}]}
    assert query_noise_note(old) is None


def test_seed_gap_hand_worked():
    """Gaps +1, -2, -2 (0.5 vs -1.5 etc.): mean -1, sample sd sqrt(3), SE 1; met on one seed
    (a zero gap counts as met); no error below three seeds; unpaired input is rejected."""
    mean, se, above = seed_gap([2.0, 1.0, 3.0], [1.0, 3.0, 5.0])
    assert mean == -1.0 and abs(se - 1.0) < 1e-12 and above == 1
    assert seed_gap([1.0, 2.0], [1.0, 1.0]) == (0.5, None, 2)
    with pytest.raises(SecretError, match="one value per seed"):
        seed_gap([1.0], [1.0, 2.0])
