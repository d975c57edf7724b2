"""Helpers the Snakemake rules call: config checks, settings per stage, and the path layout.

They live in the library (not in ``rules/common.smk``) so that they are unit-tested and so
that the rule files stay declarative.
"""
