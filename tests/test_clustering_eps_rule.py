"""adapt.eps_neighbours: rho derived from the target's size, so the cluster count transfers."""

from pathlib import Path

import numpy as np
import pytest
import yaml
from snakemake.utils import validate
from test_clustering_jaccard import blobs

import secret_core.workflow as wf
from secret_core.clustering import choose_eps, cluster, jaccard_distance, rho_for_size
from secret_core.errors import SecretError
from secret_core.pipeline.pseudo_labels import eps_rho

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "schema.yaml"


def test_paper_rho_is_about_21_neighbours_at_market_size():
    assert rho_for_size(12936, 20.7) == pytest.approx(1.6e-3, rel=1e-3)
    assert rho_for_size(3, 10) == 1.0  # capped
    with pytest.raises(SecretError):
        rho_for_size(1, 10)


def test_settings_choose_the_rule():
    assert eps_rho({"rho": 0.02, "eps_neighbours": None}, 2001) == 0.02
    assert eps_rho({"eps_neighbours": 10}, 2001) == pytest.approx(10 / 2000)


def clusters(ids: int, per_id: int, rho: float | None, neighbours: float | None) -> int:
    feats = blobs(ids * per_id, 32, ids, 0.35, seed=ids)
    dist = jaccard_distance(feats, 15, 4, device="cpu")
    rate = rho if rho is not None else rho_for_size(len(feats), neighbours)
    labels = cluster(None, choose_eps(dist, rate), min_samples=3, distance=dist)
    return int(labels.max()) + 1


def test_neighbour_rule_keeps_the_cluster_count_when_the_target_grows():
    """Same images per identity, 3x the identities: a rho fitted to the small target
    merges the large one's identities; the neighbour rule stays within 2x of the truth."""
    small, large = (80, 8), (300, 8)
    rho = 14 / (80 * 8 - 1)  # the rule's rho at the small size
    assert clusters(*small, rho, None) == clusters(*small, None, 14)
    for ids, per_id in (small, large):
        found = clusters(ids, per_id, None, 10)
        assert ids / 2 <= found <= 2 * ids, (ids, found)
    assert clusters(*large, rho, None) < clusters(*large, None, 10)


def config_with(**adapt) -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["adapt"].pop("rho", None)
    config["adapt"].pop("eps_neighbours", None)
    config["adapt"].update(adapt)
    return config


def test_exactly_one_rule_with_auto_eps():
    wf.validate_config(config_with(rho=0.01), SCHEMA, validate)
    wf.validate_config(config_with(eps_neighbours=10), SCHEMA, validate)
    with pytest.raises(SecretError, match="both set"):
        wf.validate_config(config_with(rho=0.01, eps_neighbours=10), SCHEMA, validate)
    with pytest.raises(SecretError, match="neither"):
        wf.validate_config(config_with(), SCHEMA, validate)


def test_cluster_params_name_only_the_rule_in_use():
    variants = wf.load_variants(ROOT / "config" / "variants.yaml", {})
    wc = {"setting": "uda", "task": "duke2market", "variant": "secret", "seed": "1"}
    wc |= {"epoch": "001", "space": "global"}
    by_rho = wf.stage_settings(config_with(rho=0.01), variants, "cluster", wc)
    assert by_rho["rho"] == 0.01 and "eps_neighbours" not in by_rho
    by_size = wf.stage_settings(config_with(eps_neighbours=10), variants, "cluster", wc)
    assert by_size["eps_neighbours"] == 10 and "rho" not in by_size
    assert np.isfinite(by_size["eps_neighbours"])
