"""What the commands print: one JSON object or a rich table, warnings on stderr, the progress bar.

stdout carries only the result (JSON, a table, an HTML body); everything else goes to stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

import click

from newsletter.domain.progress import NO_PROGRESS, Progress

if TYPE_CHECKING:
    from rich.console import Console

    from newsletter.domain.delivery import RenderedMessage


@cache
def err() -> Console:
    """The console on stderr, for warnings and the progress bar."""
    from rich.console import Console

    return Console(stderr=True)


def emit(as_json: bool, data: dict[str, Any], human: Callable[[], None]) -> None:
    """`data` as one JSON object with --json, else what `human` prints."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table of `rows`. Cells are plain text: a feed's title such as
    "[link=https://…]…[/link] :fire:" is shown as written, never read as rich markup (terminal
    links, styles) or emoji codes."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*[Text("" if cell is None else str(cell)) for cell in row])
    Console().print(grid)


def warn_if_clipped(rendered: RenderedMessage) -> None:
    """Gmail's clipping warning on stderr (stdout may carry the HTML or JSON)."""
    from newsletter.render.clipping import clipping_warning

    warning = clipping_warning(rendered)
    if warning:
        err().print(warning, markup=False, highlight=False, soft_wrap=True)


class _Bar:
    """A rich progress bar drawn on stderr: done/total, a status line, rate and ETA."""

    def __init__(self, bar: Any, description: str) -> None:
        self.bar = bar
        self.description = description
        self.task: Any = None

    def start(self, total: int, done: int = 0) -> None:
        self.task = self.bar.add_task(self.description, total=total, completed=done, status="")

    def advance(self, steps: int, status: str) -> None:
        if self.task is not None:
            self.bar.update(self.task, advance=steps, status=status)


@contextmanager
def progress_bar(description: str, *, enabled: bool, transient: bool = False) -> Iterator[Progress]:
    """The one progress bar of the command line; NO_PROGRESS when disabled (e.g. with --json).

    `transient` bars vanish when done (collect prints its table instead); the others stay.
    """
    if not enabled:
        yield NO_PROGRESS
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:,.0f}/s" if speed else "-/s")

    with RichProgress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        RateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err(),
        transient=transient,
    ) as bar:
        yield _Bar(bar, description)
