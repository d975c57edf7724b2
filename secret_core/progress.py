"""Progress that reads well both on a terminal and in a rule's log file.

tqdm redraws its bar with carriage returns; in a log file (``pipeline.runner`` sends a job's
stderr there) every redraw stays, so a pre-training log used to hold thousands of fragments
and ``tail`` showed none of them whole. :func:`progress` keeps the bar on a terminal and
otherwise writes one plain log line per ~10% of the work, which ``tail -f`` and ``grep`` read.
Torch-free: any stage may use it.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# The logger pipeline.runner routes to the rule's log file (its LOGGER_NAME; a test checks).
LOGGER_NAME = "secret"
STEPS = 10  # lines per loop in a log file: one per ~10%


class LoggedProgress(Generic[T]):
    """Iterate ``iterable`` and log ``desc: i/total (p%), s s[, postfix]`` at each tenth.

    Offers tqdm's ``set_postfix`` so a loop works the same with either; the postfix (e.g.
    the latest loss) is added to the next line. Without a known total only the end is logged.
    """

    def __init__(
        self, iterable: Iterable[T], desc: str, total: int | None, log: logging.Logger
    ) -> None:
        self.iterable, self.desc, self.total, self.log = iterable, desc, total, log
        self.postfix = ""

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def _line(self, done: int, start: float) -> None:
        share = f" ({100 * done / self.total:.0f}%)" if self.total else ""
        of = f"/{self.total}" if self.total else ""
        extra = f", {self.postfix}" if self.postfix else ""
        elapsed = time.perf_counter() - start
        self.log.info("%s: %d%s%s, %.1f s%s", self.desc, done, of, share, elapsed, extra)

    def __iter__(self) -> Iterator[T]:
        total = self.total or 0
        marks = {math.ceil(total * k / STEPS) for k in range(1, STEPS + 1)} - {0}
        start, done = time.perf_counter(), 0
        for item in self.iterable:
            yield item
            done += 1
            if done in marks:
                self._line(done, start)
        if done not in marks:  # unknown total, or the iterable ended early
            self._line(done, start)


def progress(
    iterable: Iterable[T],
    desc: str,
    total: int | None = None,
    *,
    log: logging.Logger | None = None,
    mininterval: float = 5.0,
) -> Iterable[T]:
    """``iterable`` with progress: a tqdm bar when stderr is a terminal, else log lines.

    ``total`` defaults to ``len(iterable)`` when it has one. Whether stderr is a terminal is
    decided at the call, so a loop inside a rule (stderr redirected to its log) logs lines
    and the same loop in an interactive session draws a bar.
    """
    if total is None:
        try:
            total = len(iterable)  # type: ignore[arg-type]
        except TypeError:
            total = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, desc=desc, total=total, mininterval=mininterval)
    return LoggedProgress(iterable, desc, total, log or logging.getLogger(LOGGER_NAME))
