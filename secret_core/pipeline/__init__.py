"""One function per workflow stage; each reads files, calls the library, writes files.

The Snakemake scripts under ``workflow_scripts/`` are thin adapters that pass the rule's
input/output/params to these functions, so every stage can also be run from Python.
"""
