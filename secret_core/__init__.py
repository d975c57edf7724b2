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
