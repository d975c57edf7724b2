"""The variant catalogue (``config/variants.yaml``): what each experiment clusters, refines
and trains, resolved by the name in its target path (``<variant>_k<K>`` changes K)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from secret_core.errors import SecretError

K_SUFFIX = re.compile(r"^(?P<base>[A-Za-z0-9_]+?)_k(?P<k>[0-9]*\.?[0-9]+)$")


def load_variants(catalogue_path: str | Path, overrides: Mapping[str, Mapping]) -> dict:
    """The variant catalogue (config/variants.yaml) updated by the config's own entries."""
    variants = yaml.safe_load(Path(catalogue_path).read_text()) or {}
    for name, entry in (overrides or {}).items():
        variants[name] = {**variants.get(name, {}), **entry}
    return variants


def resolve_variant(variants: Mapping[str, Mapping], name: str) -> dict:
    """A variant's settings; ``<variant>_k<K>`` is that variant with strictness K (Figure 7)."""
    if name in variants:
        variant = dict(variants[name])
    else:
        match = K_SUFFIX.match(name)
        if not match or match["base"] not in variants:
            known = ", ".join(sorted(variants))
            raise SecretError(
                f"unknown variant '{name}' in the target path; known variants: {known} "
                "(append _k<K> to sweep the refinement strictness, e.g. secret_k0.4)"
            )
        variant = dict(variants[match["base"]])
        variant["k"] = float(match["k"])
    variant.setdefault("use_top", True)
    variant.setdefault("use_bottom", True)
    variant.setdefault("label", name)
    return variant


def clustered_spaces(variants: Mapping[str, Mapping], name: str) -> list[str]:
    """Feature spaces clustered each epoch: one per branch, or their concatenation."""
    variant = resolve_variant(variants, name)
    if variant["cluster_on"] == "concat":
        # the three spaces are clustered too, only to measure their consistency (Figure 5)
        return ["concat", "global", "top", "bottom"]
    return list(variant["branches"])
