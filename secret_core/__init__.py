"""SECRET: self-consistent pseudo label refinement for UDA person re-identification.

The package holds all logic of the pipeline so that it can be used without Snakemake:
``data`` (readers, synthetic domains, samplers), ``modeling`` (multi-branch network),
``losses``, ``engine`` (training, extraction, checkpoints), ``evaluation`` (Re-ID metrics),
``clustering`` (k-reciprocal Jaccard + DBSCAN), ``refinement`` (mutual refinement and label
quality), ``pipeline`` (one function per workflow stage) and ``reporting`` (tables, figures).
"""

__version__ = "0.1.0"

BRANCHES: tuple[str, str, str] = ("global", "top", "bottom")
"""The three feature spaces of the multi-branch model, in the order used everywhere."""

MAX_DISTANCE: float = 1.0
"""The one default Jaccard cap (``adapt.max_distance``): 1 caps nothing, exact.

``jaccard_distance`` and ``jaccard_from_encoding`` store every pair below it; a clustering
step stores at most those, and only the ones eps and DBSCAN read (``clustering.cut``).
Used by those functions, ``choose_eps``, ``clustering_distance`` and the cluster
stage (``workflow.epochs.adapt_settings``); the schema documents it but sets no
default of its own, so a config without the key gets exactly this. Two different defaults
once made the stage cut the matrix at 0.95 while eps assumed an exact one (eps silently too
large). Defined here because importing it loads nothing else (the Snakefile validates
configs with it).
"""
