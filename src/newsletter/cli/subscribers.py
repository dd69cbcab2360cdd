"""`newsletter subscribers ...`: add, import, export, list and erase subscribers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from newsletter.cli.options import config_option, json_option, services
from newsletter.cli.output import emit, table
from newsletter.domain.readers import SubscriberStatus

if TYPE_CHECKING:
    from newsletter.audience.import_export import ImportPlan


@click.group()
def subscribers() -> None:
    """Add, import, export, list and erase subscribers.

    \b
    Example:
        newsletter subscribers list --status active
    """


@subscribers.command("add")
@config_option
@click.argument("email")
@click.option("--name", default=None, help="The subscriber's name.")
@click.option("--confirmed", is_flag=True, help="Active at once (you vouch for consent).")
@click.option(
    "--sections",
    default="",
    help='The sections they receive, comma-separated ("A,B"); every section when omitted.',
)
def subscribers_add(email: str, name: str | None, confirmed: bool, sections: str) -> None:
    """Add one subscriber (pending unless --confirmed); you are recorded as who added it.

    \b
    Example:
        newsletter subscribers add ada@example.org --name "Ada Lovelace" --confirmed
    """
    from newsletter.audience import subscribers as subs
    from newsletter.runtime.audience import audience_of

    with services() as svc:
        subscriber, created = subs.add(
            audience_of(svc), email, name, confirmed, by=_os_user(), source="cli", sections=sections
        )
    verb = "added" if created else "already known"
    click.echo(f"{subscriber.email}: {verb} ({subscriber.status})")


def _os_user() -> str:
    """Who runs the command, for consent records: the OS user, else "cli"."""
    import getpass

    try:
        return getpass.getuser() or "cli"
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        return "cli"


@subscribers.command("import")
@config_option
@json_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pending", is_flag=True, help="Import as pending: each is sent a confirmation.")
@click.option(
    "--force-resubscribe",
    is_flag=True,
    help="Bring back addresses that unsubscribed or bounced (never ones that complained).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be recorded; import nothing.")
def subscribers_import(
    file: Path, pending: bool, force_resubscribe: bool, dry_run: bool, as_json: bool
) -> None:
    """Import a CSV with a header row: `email` required; `name`, `consent_at` (ISO 8601) and
    `consent_source` optional. UTF-8, UTF-16 (with BOM) or Latin-1; `,` `;` or tab separated.

    What every row's consent record will say (file, time, who imports, source, pending or
    not) is shown first. Rejected rows are reported with their line number; addresses that
    left the list are not imported again unless --force-resubscribe.

    \b
    Example:
        newsletter subscribers import readers.csv --pending --dry-run
    """
    from newsletter.audience import import_export as subs
    from newsletter.runtime.audience import audience_of

    with services() as svc:
        rows = subs.load_csv(file)
        plan = subs.plan_import(rows, file.name, _os_user(), pending)
        if not as_json:
            _print_plan(plan)
        if dry_run:
            emit(as_json, {"dry_run": True, "recorded": plan.to_json()}, lambda: None)
            return
        report = subs.import_csv(
            audience_of(svc),
            rows,
            file=plan.file,
            by=plan.by,
            pending=pending,
            force_resubscribe=force_resubscribe,
        )
    data = {**report.to_json(), "recorded": plan.to_json()}

    def human() -> None:
        click.echo(
            f"{report.added} added, {report.resubscribed} resubscribed, "
            f"{report.already} already known, {len(report.rejected)} rejected"
        )
        for line, error in report.rejected:
            click.echo(f"{file}:{line}: {error}", err=True)

    emit(as_json, data, human)


def _print_plan(plan: ImportPlan) -> None:
    status = "pending" if plan.pending else "active"
    rows = []
    for source in plan.sources:
        if source.dated == source.rows:
            dated = "from the file"
        elif source.dated == 0:
            dated = "not given"
        else:
            dated = f"{source.dated} from the file, {source.rows - source.dated} not given"
        rows.append([source.rows, source.consent_source or "(none)", dated, plan.file, status])
    table(
        f"consent recorded for the {plan.rows} row(s) of {plan.file}, imported by {plan.by}",
        ["rows", "consent source", "consent date", "file", "status"],
        rows,
    )
    click.echo(
        "pending: each new address is sent a confirmation email and stays pending until it confirms"
        if plan.pending
        else "active: you vouch that each of them consented"
    )


@subscribers.command("export")
@config_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option(
    "--email",
    "address",
    metavar="ADDRESS",
    help="Only this reader, with everything kept about them (GDPR access).",
)
def subscribers_export(out: Path | None, address: str | None) -> None:
    """Export the list as CSV (email, name, status), or with --email one reader's data: their
    consent record and the issues they were sent. --out files are readable by you only.

    \b
    Example:
        newsletter subscribers export --out readers.csv
    """
    from newsletter.audience import import_export as subs
    from newsletter.runtime.audience import audience_of
    from newsletter.store.private_files import write_private_text

    with services() as svc:
        audience = audience_of(svc)
        chunks = (
            iter([subs.export_personal_data(audience, address)])
            if address
            else subs.export_csv(audience)
        )
        if out:
            with write_private_text(out) as handle:
                for chunk in chunks:
                    handle.write(chunk)
        else:
            for chunk in chunks:
                click.echo(chunk, nl=False)


@subscribers.command("list")
@config_option
@json_option
@click.option(
    "--status", type=click.Choice([s.value for s in SubscriberStatus]), help="Only this status."
)
def subscribers_list(status: str | None, as_json: bool) -> None:
    """List subscribers.

    \b
    Example:
        newsletter subscribers list --status pending --json
    """
    with services() as svc:
        chosen = SubscriberStatus(status) if status else None
        rows = [
            {
                "email": s.email,
                "name": s.name,
                "status": str(s.status),
                "sections": list(s.sections),
            }
            for s in svc.store.subscribers.iter(chosen)
        ]
    emit(
        as_json,
        {"subscribers": rows},
        lambda: table(
            None,
            ["email", "name", "status", "sections"],
            [[r["email"], r["name"], r["status"], _sections_cell(r["sections"])] for r in rows],
        ),
    )


def _sections_cell(sections: object) -> str:
    """A subscriber's sections in the table: their names, or * for every section."""
    return ", ".join(sections) if isinstance(sections, list) and sections else "*"


@subscribers.command("remove")
@config_option
@click.argument("email")
def subscribers_remove(email: str) -> None:
    """Erase a subscriber's personal data (GDPR); a hash keeps the address suppressed.

    \b
    Example:
        newsletter subscribers remove ada@example.org
    """
    from newsletter.audience.erasure import remove
    from newsletter.runtime.audience import audience_of

    with services() as svc:
        found = remove(audience_of(svc), email)
    click.echo("erased" if found else "not on the list; suppressed anyway")
