"""The answers the rules' input, params and group functions give, computed once per run.

Snakemake calls those functions for every job while it builds the DAG: the paper's config has
about 7,000 jobs (21,000 with three seeds), and each job asks for the adapt settings of its
setting, its resolved variant, its target dataset, its start model's folder and whether its
experiment exists. All of these are pure functions of the config, the variant catalogue and a
few wildcards, and neither changes after the workflow has loaded them (``rules/common.smk``
validates and completes the config before building the :class:`Planner`). So each distinct
question is answered once and kept in a dict; the per-job part (the ``run`` block of the
params, file paths) is still built per job.

The library functions themselves (``stage_settings``, ``adapt_settings``, ...) stay uncached:
tests and benchmarks change a config between calls and must see the change. A planner reads
its config once, so it must not outlive a change of the config (the workflow never changes it).

Answers are shared between jobs only where nobody changes them: params leave through
``canonical`` (fresh dicts and lists every call) and lists handed to Snakemake are copies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from secret_core.workflow import targets
from secret_core.workflow.datasets import target_dataset
from secret_core.workflow.epochs import adapt_settings, eval_epochs, num_epochs
from secret_core.workflow.stage_params import (
    _stage_settings,
    canonical,
    start_settings,
)
from secret_core.workflow.start_models import start_dir, start_target_dir
from secret_core.workflow.variants import clustered_spaces, resolve_variant

EXPERIMENT_FIELDS = ("setting", "task", "variant", "seed")


class Planner:
    """Per-run memo of everything the rules derive from ``config`` and ``variants``.

    Each method returns what the library function of the same name returns for this config
    (``tests/test_workflow_planner.py`` holds that for every job of the shipped configs).
    """

    def __init__(self, config: Mapping, variants: Mapping[str, Mapping]) -> None:
        self.config = config
        self.variants = variants
        self._adapt: dict[str, dict] = {}
        self._variant: dict[str, dict] = {}
        self._spaces: dict[str, tuple[str, ...]] = {}
        self._epochs: dict[str, int] = {}
        self._eval_epochs: dict[str, tuple[int, ...]] = {}
        self._target: dict[tuple[str, str], str] = {}
        self._start_dir: dict[tuple[str, str, str], str] = {}
        self._start_target_dir: dict[tuple[str, str, str], str] = {}
        self._known: set[tuple[str, ...]] = set()

    def adapt(self, setting: str) -> dict:
        """``adapt_settings`` of one setting (a deep copy of ``adapt``, made once). Read only."""
        if setting not in self._adapt:
            self._adapt[setting] = adapt_settings(self.config, setting)
        return self._adapt[setting]

    def variant(self, name: str) -> dict:
        """``resolve_variant`` of one variant name. Read only."""
        if name not in self._variant:
            self._variant[name] = resolve_variant(self.variants, name)
        return self._variant[name]

    def clustered_spaces(self, name: str) -> list[str]:
        """The spaces variant ``name`` clusters (a new list: Snakemake keeps it as a param)."""
        if name not in self._spaces:
            self._spaces[name] = tuple(clustered_spaces(self.variants, name))
        return list(self._spaces[name])

    def num_epochs(self, setting: str) -> int:
        if setting not in self._epochs:
            self._epochs[setting] = num_epochs(self.config, setting)
        return self._epochs[setting]

    def eval_epochs(self, setting: str) -> tuple[int, ...]:
        """The evaluated epochs of a setting, ascending (see ``epochs.eval_epochs``)."""
        if setting not in self._eval_epochs:
            self._eval_epochs[setting] = tuple(eval_epochs(self.config, setting))
        return self._eval_epochs[setting]

    def target_dataset(self, setting: str, task: str) -> str:
        key = (setting, task)
        if key not in self._target:
            self._target[key] = target_dataset(self.config, setting, task)
        return self._target[key]

    def start_dir(self, setting: str, task: str, seed: int | str) -> str:
        key = (setting, task, str(seed))
        if key not in self._start_dir:
            self._start_dir[key] = start_dir(self.config, setting, task, seed)
        return self._start_dir[key]

    def start_target_dir(self, setting: str, task: str, seed: int | str) -> str:
        key = (setting, task, str(seed))
        if key not in self._start_target_dir:
            self._start_target_dir[key] = start_target_dir(self.config, setting, task, seed)
        return self._start_target_dir[key]

    def check_experiment(self, wildcards: Mapping[str, Any]) -> None:
        """``targets.check_experiment``, run once per experiment (a known one passes silently;
        an unknown one raises every time, as before)."""
        key = tuple(str(wildcards[field]) for field in EXPERIMENT_FIELDS)
        if key in self._known:
            return
        targets.check_experiment(wildcards, self.config, self.variants)
        self._known.add(key)

    def stage_settings(self, stage: str, wildcards: Mapping[str, str]) -> dict:
        """``stage_settings(config, variants, stage, wildcards)``, with the adapt settings and
        the variant taken from this planner."""
        return canonical(
            _stage_settings(
                self.config, stage, wildcards, adapt_of=self.adapt, variant_of=self.variant
            )
        )

    def start_settings(self, stage: str, start: str, space: str = "") -> dict:
        """``start_settings(config, stage, start, space)`` (see ``stage_settings``)."""
        return start_settings(self.config, stage, start, space, adapt_of=self.adapt)
