"""Package names that load their module on first use (PEP 562).

A package whose ``__init__`` imports every submodule makes each importer pay for all of
them: the workflow's planner would load numpy and the renderer to read one version number,
and an evaluate job scipy for re-ranking it never does. Such a package lists where each
public name lives and hands this module's ``__getattr__`` to Python instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_names(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps a name to its submodule."""

    def __getattr__(name: str) -> Any:
        if name in homes:
            return getattr(import_module(f"{package}.{homes[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
