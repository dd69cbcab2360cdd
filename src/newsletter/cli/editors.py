"""`newsletter editors ...`: the accounts of the editors who use the desk, and their roles."""

from __future__ import annotations

import sys

import click

from newsletter.cli.options import config_option, json_option, services
from newsletter.cli.output import emit, table
from newsletter.domain.errors import UsageError

ROLES = click.Choice(["editor", "admin"])


@click.group()
def editors() -> None:
    """Accounts of the editors who use the desk. An admin manages editors, erases
    subscribers and sends issues; an editor does the rest.

    \b
    Example:
        newsletter editors add ada --email ada@example.org --role admin
    """


@editors.command("add")
@config_option
@click.argument("name")
@click.option("--email", default=None, help="Where the desk sends this editor's test copies.")
@click.option(
    "--role",
    type=ROLES,
    default=None,
    help="editor or admin (default: admin for the first editor, editor for the others).",
)
def editors_add(name: str, email: str | None, role: str | None) -> None:
    """Add an editor; the password is prompted (or read from stdin, twice).

    \b
    Example:
        printf 'secret\\nsecret\\n' | newsletter editors add ada --email ada@example.org
    """
    from newsletter.curate.editors import Role, add_editor

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2 or lines[0] != lines[1]:
            raise UsageError("give the password twice on stdin (password, then confirmation)")
        password = lines[0]
    with services() as svc:
        add_editor(
            svc.store.editors,
            svc.clock(),
            name,
            password,
            email=email,
            role=Role(role) if role else None,
        )
    click.echo(f"editor {name} added")


@editors.command("list")
@config_option
@json_option
def editors_list(as_json: bool) -> None:
    """The editors, their email and role.

    \b
    Example:
        newsletter editors list --json
    """
    from newsletter.curate.editors import list_editors

    with services() as svc:
        found = list_editors(svc.store.editors)
    rows = [{"name": e.name, "email": e.email, "role": str(e.role)} for e in found]
    emit(
        as_json,
        {"editors": rows},
        lambda: table("Editors", ["name", "email", "role"], [list(r.values()) for r in rows]),
    )


@editors.command("remove")
@config_option
@click.argument("name")
def editors_remove(name: str) -> None:
    """Remove an editor (never the last admin).

    \b
    Example:
        newsletter editors remove ada
    """
    from newsletter.curate.editors import find, remove_editor

    with services() as svc:
        remove_editor(svc.store.editors, find(svc.store.editors, name))
        svc.store.editors.log(svc.clock(), "cli", "editor_removed", name)
    click.echo(f"editor {name} removed")


@editors.command("role")
@config_option
@click.argument("name")
@click.argument("role", type=ROLES)
def editors_role(name: str, role: str) -> None:
    """Make an editor an `editor` or an `admin` (the last admin stays one).

    \b
    Example:
        newsletter editors role ada admin
    """
    from newsletter.curate.editors import Role, change_role, find

    with services() as svc:
        change_role(svc.store.editors, find(svc.store.editors, name), Role(role))
        svc.store.editors.log(svc.clock(), "cli", "editor_role", f"{name}: {role}")
    click.echo(f"editor {name} is now {role}")
