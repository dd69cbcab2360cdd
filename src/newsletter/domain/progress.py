"""How a long batch (collecting feeds, sending an issue) tells its driver how far it is.

The use case calls `start` once and `advance` as items finish; the command line draws a bar
from it (newsletter.cli.output.progress_bar), every other caller passes NO_PROGRESS.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, total: int, done: int = 0) -> None:
        """`total` items in this run, `done` of them already finished by an earlier run."""

    def advance(self, steps: int, status: str) -> None:
        """`steps` more items finished; `status` is one short line on where the run stands."""


class _NoProgress:
    def start(self, total: int, done: int = 0) -> None:
        pass

    def advance(self, steps: int, status: str) -> None:
        pass


NO_PROGRESS: Progress = _NoProgress()
