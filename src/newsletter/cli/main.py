"""The `newsletter` root group, and `main`: run it and turn errors into exit codes.

Exit codes: 0 done (failures of single feeds or recipients are in the report), 1 the operation
failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys

import click

from newsletter.cli.options import config_option
from newsletter.cli.output import err
from newsletter.domain.errors import ConfigError, InvalidAddress, NewsletterError, UsageError

# Each command as "module:attribute", imported when it runs (or when --help lists it): a
# command does not pay for the modules of the others.
COMMANDS = {
    "articles": "newsletter.cli.articles:articles",
    "collect": "newsletter.cli.feeds:collect",
    "doctor": "newsletter.cli.ops:doctor",
    "editors": "newsletter.cli.editors:editors",
    "feeds": "newsletter.cli.feeds:feeds",
    "init": "newsletter.cli.ops:init",
    "issue": "newsletter.cli.issue:issue",
    "run": "newsletter.cli.ops:run",
    "subscribers": "newsletter.cli.subscribers:subscribers",
}


class LazyGroup(click.Group):
    """The root group, its commands named in COMMANDS and imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute = COMMANDS[cmd_name].split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup)
@config_option
@click.version_option(package_name="newsletter")
def cli() -> None:
    """Newsletter: collect feeds, curate an issue, send it to every subscriber.

    \b
    Example:
        newsletter init && newsletter collect && newsletter issue draft
    """


def _fail(exc: Exception, code: int) -> None:
    # One plain line: rich would wrap it at the terminal width.
    message = " ".join(str(exc).split())
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


def main() -> None:
    # The web app's request models use pydantic, and no pydantic plugin: looking for plugins
    # reads the metadata of every installed package.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # At exit the interpreter's last garbage collections walk every object the libraries built
    # (SQLAlchemy's above all): a fifth of a short command's CPU, for memory the process
    # is about to give back. Frozen objects are skipped; what holds a file or a connection is
    # closed before (`with` blocks, `Services.close`), not left to the collector.
    atexit.register(gc.freeze)
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err().print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (ConfigError, UsageError, InvalidAddress) as exc:
        _fail(exc, 2)
    except NewsletterError as exc:
        _fail(exc, 1)
    except KeyboardInterrupt:
        sys.exit(130)
