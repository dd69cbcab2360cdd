"""The `newsletter` root group, and `main`: run it and turn errors into exit codes.

Exit codes: 0 done (failures of single feeds or recipients are in the report), 1 the operation
failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import os
import sys

import click

from newsletter.cli.articles import articles
from newsletter.cli.editors import editors
from newsletter.cli.feeds import collect, feeds
from newsletter.cli.issue import issue
from newsletter.cli.ops import doctor, init, run
from newsletter.cli.options import config_option
from newsletter.cli.output import err
from newsletter.cli.subscribers import subscribers
from newsletter.domain.errors import ConfigError, InvalidAddress, NewsletterError, UsageError


@click.group()
@config_option
@click.version_option(package_name="newsletter")
def cli() -> None:
    """Newsletter: collect feeds, curate an issue, send it to every subscriber.

    \b
    Example:
        newsletter init && newsletter collect && newsletter issue draft
    """


for command in (init, collect, feeds, articles, issue, subscribers, editors, doctor, run):
    cli.add_command(command)


def _fail(exc: Exception, code: int) -> None:
    # One plain line: rich would wrap it at the terminal width.
    message = " ".join(str(exc).split())
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


def main() -> None:
    # The project uses no pydantic plugin: looking for them reads the metadata of every
    # installed package, about a third of a command's start-up.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
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
