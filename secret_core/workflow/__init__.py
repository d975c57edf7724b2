"""Helpers the Snakemake rules call: config checks, settings per stage, and the path layout.

They live in the library (not in ``rules/common.smk``) so that they are unit-tested and so
that the rule files stay declarative. One module per concern; this package exposes their
public names so the rules read ``wf.stage_settings(...)`` (``import secret_core.workflow as
wf``; the name ``workflow`` is Snakemake's own object inside rule files).

- ``validation``: the schema check and combinations it cannot express, the metadata backend
- ``variants``: the variant catalogue and ``<variant>_k<K>`` names
- ``datasets``: datasets and tasks of a config, the up-front existence check
- ``epochs``: target epochs, evaluated epochs, kept checkpoints
- ``stage_params``: each job's params (exactly the settings it reads)
- ``planner``: those answers computed once per run for the rules (the DAG asks per job)
- ``start_models``: where an experiment's start model and its shared first epoch live
- ``outputs``: what each table and figure reads
- ``interpreter``: collector thresholds for planning large DAGs
- ``layout``: the path of every file; ``targets``: clear errors for unknown targets;
  ``coerce``: command-line strings to the types the schema wants
"""

from secret_core.workflow.datasets import (
    check_datasets,
    dataset_entry,
    dataset_path,
    target_dataset,
    task_entry,
    used_datasets,
)
from secret_core.workflow.epochs import (
    SETTINGS,
    EpochSpan,
    EpochWildcards,
    adapt_settings,
    checkpoint_epochs,
    epoch_pattern,
    epoch_spans,
    epoch_wildcards,
    epochs_per_job,
    eval_epochs,
    last_epochs,
    num_epochs,
    span_of,
)
from secret_core.workflow.interpreter import defer_full_collections
from secret_core.workflow.outputs import (
    DEFAULT_K_SWEEP,
    FIGURES,
    figure_experiments,
    figure_inputs,
    figure_settings,
    figure_task,
    k_sweep,
    k_variant,
    rank_list_experiments,
    table_experiments,
    table_inputs,
    table_settings,
    table_tasks,
)
from secret_core.workflow.planner import Planner
from secret_core.workflow.stage_params import (
    CLUSTER_KEYS,
    FINETUNE_KEYS,
    MODEL_KEYS_CREATED,
    MODEL_KEYS_LOADED,
    MODEL_KEYS_TRAINED,
    VARIANT_KEYS,
    canonical,
    prepare_settings,
    stage_settings,
    start_settings,
)
from secret_core.workflow.start_models import (
    START_PATTERN,
    source_model_dir,
    start_dir,
    start_group_name,
    start_target_dir,
)
from secret_core.workflow.validation import (
    check_combinations,
    check_persistence_backend,
    relative_paths,
    validate_config,
)
from secret_core.workflow.variants import (
    K_SUFFIX,
    clustered_spaces,
    load_variants,
    resolve_variant,
)

__all__ = [
    "CLUSTER_KEYS",
    "DEFAULT_K_SWEEP",
    "FIGURES",
    "FINETUNE_KEYS",
    "K_SUFFIX",
    "MODEL_KEYS_CREATED",
    "MODEL_KEYS_LOADED",
    "MODEL_KEYS_TRAINED",
    "SETTINGS",
    "START_PATTERN",
    "VARIANT_KEYS",
    "EpochSpan",
    "EpochWildcards",
    "Planner",
    "adapt_settings",
    "canonical",
    "check_combinations",
    "check_datasets",
    "check_persistence_backend",
    "checkpoint_epochs",
    "clustered_spaces",
    "dataset_entry",
    "dataset_path",
    "defer_full_collections",
    "epoch_pattern",
    "epoch_spans",
    "epoch_wildcards",
    "epochs_per_job",
    "eval_epochs",
    "figure_experiments",
    "figure_inputs",
    "figure_settings",
    "figure_task",
    "k_sweep",
    "k_variant",
    "last_epochs",
    "load_variants",
    "num_epochs",
    "prepare_settings",
    "rank_list_experiments",
    "relative_paths",
    "resolve_variant",
    "source_model_dir",
    "span_of",
    "stage_settings",
    "start_dir",
    "start_group_name",
    "start_settings",
    "start_target_dir",
    "table_experiments",
    "table_inputs",
    "table_settings",
    "table_tasks",
    "target_dataset",
    "task_entry",
    "used_datasets",
    "validate_config",
]
