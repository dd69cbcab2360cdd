"""What every command shares: `--config`, `--json`, and the services opened for one command."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from newsletter.domain.errors import UsageError

if TYPE_CHECKING:
    from newsletter.runtime.config import Config
    from newsletter.runtime.wiring import Services

F = TypeVar("F", bound=Callable[..., Any])


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)["config"] = value


def config_option(func: F) -> F:
    """`--config PATH`, accepted before or after the command name."""
    return click.option(
        "--config",
        "config_path",
        metavar="PATH",
        expose_value=False,
        callback=_remember_config,
        is_eager=True,
        help="Configuration file (default: $NEWSLETTER_CONFIG or ./config.toml).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(func)


def config_path() -> Path:
    """The `--config` given nearest to the command, else $NEWSLETTER_CONFIG, else ./config.toml."""
    from newsletter.runtime.config import default_path

    ctx = click.get_current_context()
    chosen = ctx.find_root().ensure_object(dict).get("config")
    for parent in [ctx, *_parents(ctx)]:
        if isinstance(parent.obj, dict) and parent.obj.get("config"):
            chosen = parent.obj["config"]
            break
    return Path(chosen) if chosen else default_path(os.environ)


def load_config() -> Config:
    from newsletter.runtime.config import load

    return load(config_path())


def _parents(ctx: click.Context) -> Iterator[click.Context]:
    while ctx.parent is not None:
        ctx = ctx.parent
        yield ctx


@contextmanager
def services(migrate: bool = False) -> Iterator[Services]:
    """Load the configuration and open the services for one command."""
    from newsletter.runtime import wiring

    built = wiring.build(load_config())
    try:
        if migrate:
            built.store.migrate()
        elif not built.store.is_current():
            raise UsageError(
                "the database is not initialised or is out of date: run `newsletter init`"
            )
        yield built
    finally:
        built.close()
