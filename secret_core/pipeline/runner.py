"""Run a stage from a Snakemake ``script:`` with logging to the rule's log file.

Log lines and stderr go to the rule's ``log:`` file, so a cluster job's log shows where it
is; loops report progress there as whole lines, not tqdm redraws (``secret_core.progress``). A :class:`SecretError` (bad input the user can fix) is
reported as one line instead of a traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from secret_core import progress
from secret_core.device import configure_threads
from secret_core.errors import SecretError

LOGGER_NAME = progress.LOGGER_NAME


def get_logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def run_stage(snakemake: Any, stage: Callable[..., Any], **kwargs: Any) -> Any:
    """Call ``stage(**kwargs)`` with logging set up from the ``snakemake`` object."""
    log_path = Path(snakemake.log[0]) if len(snakemake.log) else None
    configure_threads(getattr(snakemake, "threads", None))
    return run_logged(stage, log_path, getattr(snakemake, "rule", stage.__name__), **kwargs)


def run_logged(
    stage: Callable[..., Any], log_path: Path | None, name: str, /, **kwargs: Any
) -> Any:
    logger = get_logger()
    logger.setLevel(logging.INFO)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    log_file = None
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_file = open(log_path, "a", buffering=1)  # noqa: SIM115 - closed below
        handlers = [logging.StreamHandler(log_file)]
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S")
    for handler in handlers:
        handler.setFormatter(fmt)
        logger.addHandler(handler)
    start = time.perf_counter()
    redirect = contextlib.redirect_stderr(log_file) if log_file else contextlib.nullcontext()
    try:
        with redirect:
            logger.info("start %s", name)
            result = stage(**kwargs)
            logger.info("done %s in %.1f s", name, time.perf_counter() - start)
            return result
    except SecretError as exc:
        logger.error("%s", exc)
        raise SystemExit(f"[{name}] {exc}") from None
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
        if log_file:
            log_file.close()
