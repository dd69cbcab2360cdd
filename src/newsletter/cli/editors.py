"""`newsletter editors ...`: the accounts of the editors who use the desk."""

from __future__ import annotations

import sys

import click

from newsletter.cli.options import config_option, services
from newsletter.domain.errors import UsageError


@click.group()
def editors() -> None:
    """Accounts of the editors who use the desk.

    \b
    Example:
        newsletter editors add ada --email ada@example.org
    """


@editors.command("add")
@config_option
@click.argument("name")
@click.option("--email", default=None, help="Where the desk sends this editor's test copies.")
def editors_add(name: str, email: str | None) -> None:
    """Add an editor; the password is prompted (or read from stdin, twice).

    \b
    Example:
        printf 'secret\\nsecret\\n' | newsletter editors add ada --email ada@example.org
    """
    from newsletter.curate.editors import add_editor

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2 or lines[0] != lines[1]:
            raise UsageError("give the password twice on stdin (password, then confirmation)")
        password = lines[0]
    with services() as svc:
        add_editor(svc.store.editors, svc.clock(), name, password, email=email)
    click.echo(f"editor {name} added")
