"""The `newsletter` command. Each command is thin: parse, call one function, report.

Exit codes: 0 done (failures of single feeds or recipients are in the report), 1 the operation
failed, 2 bad usage or bad configuration.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from newsletter.domain.errors import ConfigError, InvalidAddress, NewsletterError, UsageError
from newsletter.domain.model import IssueState, SubscriberStatus
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.runtime.wiring import Services

F = TypeVar("F", bound=Callable[..., Any])

err = Console(stderr=True)


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


def _config_path() -> Path:
    ctx = click.get_current_context()
    chosen = ctx.find_root().ensure_object(dict).get("config")
    for parent in [ctx, *_parents(ctx)]:
        if isinstance(parent.obj, dict) and parent.obj.get("config"):
            chosen = parent.obj["config"]
            break
    import os

    return Path(chosen) if chosen else config_module.default_path(os.environ)


def _parents(ctx: click.Context) -> Iterator[click.Context]:
    while ctx.parent is not None:
        ctx = ctx.parent
        yield ctx


@contextmanager
def services(migrate: bool = False) -> Iterator[Services]:
    """Load the configuration and open the services for one command."""
    config = config_module.load(_config_path())
    built = wiring.build(config)
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


def emit(as_json: bool, data: dict[str, Any], human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, default=str))
    else:
        human()


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*["" if cell is None else str(cell) for cell in row])
    Console().print(grid)


@click.group()
@config_option
@click.version_option(package_name="newsletter")
def cli() -> None:
    """Newsletter: collect feeds, curate an issue, send it to every subscriber."""


@cli.command()
@config_option
def init() -> None:
    """Create or migrate the database (safe to run again)."""
    with services(migrate=True) as svc:
        svc.store.feeds.sync(svc.config.feed_sources())
        click.echo(f"database ready: {_safe_url(svc.config.database_url)}")


@cli.command()
@config_option
@json_option
@click.option("--feed", "only", metavar="NAME", help="Fetch only this feed.")
def collect(as_json: bool, only: str | None) -> None:
    """Fetch every feed once and store the new articles."""
    from newsletter.runtime.collection import collect as run_collect

    with services() as svc:
        report = run_collect(svc, only=only, progress=not as_json)
    data = report.to_json()
    emit(
        as_json,
        data,
        lambda: table(
            f"{data['new_articles']} new article(s)",
            ["feed", "status", "new", "error"],
            [[f["name"], f["status"], f["new"], f["error"]] for f in data["feeds"]]
            + [[f["name"], "skipped", 0, f["reason"]] for f in data.get("skipped", [])],
        ),
    )


@cli.command()
@config_option
@json_option
def feeds(as_json: bool) -> None:
    """Feed health: last fetch, status, error, consecutive failures, next try."""
    with services() as svc:
        states = svc.store.feeds.all()
    rows = [
        {
            "name": s.name,
            "url": s.url,
            "last_fetch": s.last_fetched_at.isoformat() if s.last_fetched_at else None,
            "status": s.last_status,
            "error": s.last_error,
            "failures": s.consecutive_failures,
            "next_try": s.next_fetch_at.isoformat() if s.next_fetch_at else None,
            "paused": s.paused,
        }
        for s in states
    ]
    emit(
        as_json,
        {"feeds": rows},
        lambda: table(
            "feeds",
            ["name", "status", "last fetch", "failures", "next try", "error"],
            [
                [r["name"], r["status"], r["last_fetch"], r["failures"], r["next_try"], r["error"]]
                for r in rows
            ],
        ),
    )


@cli.group()
def issue() -> None:
    """Draft, preview, schedule and send issues."""


@issue.command("draft")
@config_option
@json_option
def issue_draft(as_json: bool) -> None:
    """Draft an issue from the newest articles not used yet."""
    from newsletter.curate import issues

    with services() as svc:
        outcome = issues.draft(svc)
    data = outcome.to_json()
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"drafted issue {data['id']} with {data['articles']} article(s)"
            if data["id"]
            else f"no issue drafted: {data['reason']}"
        ),
    )


@issue.command("list")
@config_option
@json_option
def issue_list(as_json: bool) -> None:
    """List the issues, newest first."""
    with services() as svc:
        listed = svc.store.issues.all()
    rows = [
        {
            "id": i.id,
            "number": i.number,
            "state": str(i.state),
            "subject": i.subject,
            "send_at": i.send_at.isoformat() if i.send_at else None,
            "articles": count,
        }
        for i, count in listed
    ]
    emit(
        as_json,
        {"issues": rows},
        lambda: table(
            "issues",
            ["id", "number", "state", "subject", "send at", "articles"],
            [list(r.values()) for r in rows],
        ),
    )


@issue.command("preview")
@config_option
@click.argument("issue_id", type=int)
@click.option("--text", is_flag=True, help="The plain-text part instead of the HTML.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also save PNG screenshots (600px and 375px) rendered in headless Chromium.",
)
def issue_preview(issue_id: int, text: bool, out: Path | None, screenshot: Path | None) -> None:
    """Render an issue as recipients will see it (placeholders filled for a sample reader)."""
    from newsletter.curate import issues
    from newsletter.render.personalise import personalise
    from newsletter.render.renderer import Renderer

    with services() as svc:
        rendered = Renderer(svc.config).render_issue(issues.get(svc, issue_id))
        copy = personalise(rendered, issues.test_recipient(svc, "preview@example.org"))
    _warn_if_clipped(rendered)
    body = copy.text if text else copy.html
    if out:
        out.write_text(body, encoding="utf-8")
    else:
        click.echo(body)
    if screenshot:
        from newsletter.render.screenshot import screenshot_html

        for path in screenshot_html(copy.html, screenshot):
            err.print(f"screenshot: {path}")


def _warn_if_clipped(rendered: Any) -> None:
    """Gmail's clipping warning on stderr (stdout may carry the HTML or JSON)."""
    from newsletter.render.renderer import clipping_warning

    warning = clipping_warning(rendered)
    if warning:
        err.print(warning, markup=False, highlight=False, soft_wrap=True)


@issue.command("test")
@config_option
@click.argument("issue_id", type=int)
@click.option("--to", "to", required=True, metavar="EMAIL", help="Address of the test copy.")
def issue_test(issue_id: int, to: str) -> None:
    """Send one copy to EMAIL, outside the ledger."""
    from newsletter.curate import issues

    with services() as svc:
        address = issues.send_test(svc, issue_id, to)
    click.echo(f"test copy of issue {issue_id} sent to {address}")


@issue.command("schedule")
@config_option
@click.argument("issue_id", type=int)
@click.option("--at", "at", required=True, metavar="ISO8601", help="When to send it.")
def issue_schedule(issue_id: int, at: str) -> None:
    """Schedule an issue; the scheduler sends it when its time comes."""
    from zoneinfo import ZoneInfo

    from newsletter.curate import issues

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise UsageError(f"--at {at!r} is not an ISO 8601 date-time") from None
    with services() as svc:
        if when.tzinfo is None:
            when = when.replace(tzinfo=ZoneInfo(svc.config.settings.newsletter.timezone))
        scheduled = issues.schedule(svc, issue_id, when)
    assert scheduled.send_at is not None
    click.echo(f"issue {issue_id} scheduled for {scheduled.send_at.isoformat()}")


@issue.command("send")
@config_option
@json_option
@click.argument("issue_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--resend-uncertain", is_flag=True, help="Send again to recipients left uncertain.")
@click.option(
    "--dry-run", is_flag=True, help="Build every copy in memory; send nothing, change nothing."
)
def issue_send(
    issue_id: int, as_json: bool, yes: bool, resend_uncertain: bool, dry_run: bool
) -> None:
    """Freeze the audience (the first time) and send; running it again resumes."""
    from newsletter.curate import issues
    from newsletter.deliver.send import dry_run as run_dry
    from newsletter.deliver.send import send_issue
    from newsletter.render.renderer import Renderer

    with services() as svc:
        if dry_run:
            report = run_dry(svc, issue_id).to_json()
            emit(
                as_json,
                report,
                lambda: click.echo(
                    f"dry run: issue {issue_id} would go to {report['would_send']} recipient(s)"
                ),
            )
            return
        current = issues.get(svc, issue_id)
        # Render once here: the same render is warned about and sent (frozen on first send).
        rendered = svc.store.issues.frozen_render(issue_id)
        if rendered is None and current.state in (IssueState.DRAFT, IssueState.SCHEDULED):
            rendered = Renderer(svc.config).render_issue(current)
        if rendered is not None:
            _warn_if_clipped(rendered)
        if not yes and not as_json:
            audience = svc.store.subscribers.count(SubscriberStatus.ACTIVE)
            click.confirm(
                f"Send issue {issue_id} ({current.subject!r}, {current.state}) "
                f"to {audience} active subscriber(s)?",
                abort=True,
            )
        counts = send_issue(
            svc,
            issue_id,
            resend_uncertain=resend_uncertain,
            progress=not as_json,
            render=(lambda _issue: rendered) if rendered is not None else None,
        )
    data = _status_json(counts)
    emit(as_json, data, lambda: _print_status(data))


@issue.command("status")
@config_option
@json_option
@click.argument("issue_id", type=int)
def issue_status(issue_id: int, as_json: bool) -> None:
    """Delivery counts of an issue."""
    from newsletter.curate import issues

    with services() as svc:
        current = issues.get(svc, issue_id)
        counts = svc.store.deliveries.status(issue_id, current.state)
    data = _status_json(counts)
    emit(as_json, data, lambda: _print_status(data))


def _status_json(counts: Any) -> dict[str, Any]:
    return {
        "id": counts.id,
        "state": str(counts.state),
        "total": counts.total,
        "pending": counts.pending + counts.sending,
        "sent": counts.sent,
        "failed": counts.failed,
        "uncertain": counts.uncertain,
        "skipped": counts.skipped,
    }


def _print_status(data: dict[str, Any]) -> None:
    table(f"issue {data['id']}: {data['state']}", list(data)[2:], [list(data.values())[2:]])


@cli.group()
def subscribers() -> None:
    """Add, import, export, list and erase subscribers."""


@subscribers.command("add")
@config_option
@click.argument("email")
@click.option("--name", default=None, help="The subscriber's name.")
@click.option("--confirmed", is_flag=True, help="Active at once (you vouch for consent).")
def subscribers_add(email: str, name: str | None, confirmed: bool) -> None:
    """Add one subscriber (pending unless --confirmed); you are recorded as who added it."""
    from newsletter.audience import subscribers as subs

    with services() as svc:
        subscriber, created = subs.add(svc, email, name, confirmed, by=_os_user(), source="cli")
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
    """
    from newsletter.audience import subscribers as subs

    with services() as svc:
        rows = subs.load_csv(file)
        plan = subs.plan_import(rows, file.name, _os_user(), pending)
        if not as_json:
            _print_plan(plan)
        if dry_run:
            emit(as_json, {"dry_run": True, "recorded": plan.to_json()}, lambda: None)
            return
        report = subs.import_csv(
            svc,
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


def _print_plan(plan: Any) -> None:
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
    consent record and the issues they were sent. --out files are readable by you only."""
    from newsletter.audience import subscribers as subs
    from newsletter.runtime.private_files import write_private_text

    with services() as svc:
        chunks = (
            iter([subs.export_personal_data(svc, address)]) if address else subs.export_csv(svc)
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
    """List subscribers."""
    with services() as svc:
        chosen = SubscriberStatus(status) if status else None
        rows = [
            {"email": s.email, "name": s.name, "status": str(s.status)}
            for s in svc.store.subscribers.iter(chosen)
        ]
    emit(
        as_json,
        {"subscribers": rows},
        lambda: table(None, ["email", "name", "status"], [list(r.values()) for r in rows]),
    )


@subscribers.command("remove")
@config_option
@click.argument("email")
def subscribers_remove(email: str) -> None:
    """Erase a subscriber's personal data (GDPR); a hash keeps the address suppressed."""
    from newsletter.audience import subscribers as subs

    with services() as svc:
        found = subs.remove(svc, email)
    click.echo("erased" if found else "not on the list; suppressed anyway")


@cli.group()
def editors() -> None:
    """Accounts of the editors who use the desk."""


@editors.command("add")
@config_option
@click.argument("name")
@click.option("--email", default=None, help="Where the desk sends this editor's test copies.")
def editors_add(name: str, email: str | None) -> None:
    """Add an editor; the password is prompted (or read from stdin, twice)."""
    from newsletter.curate.editors import add_editor

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2 or lines[0] != lines[1]:
            raise UsageError("give the password twice on stdin (password, then confirmation)")
        password = lines[0]
    with services() as svc:
        add_editor(svc, name, password, email=email)
    click.echo(f"editor {name} added")


@cli.command()
@config_option
def doctor() -> None:
    """Check config, database, migrations, templates and provider; non-zero on failure."""
    from newsletter.runtime.doctor import run_checks

    try:
        config = config_module.load(_config_path())
    except ConfigError as exc:
        table("doctor", ["check", "status", "detail"], [["config", "FAIL", str(exc)]])
        raise SystemExit(1) from None
    results = run_checks(config)
    table(
        "doctor",
        ["check", "status", "detail"],
        [[r.name, "ok" if r.ok else "FAIL", r.detail] for r in results],
    )
    if not all(r.ok for r in results):
        raise SystemExit(1)


@cli.command()
@config_option
@click.option("--log-json", is_flag=True, help="Log one JSON object per line.")
def run(log_json: bool) -> None:
    """Run the web app and the scheduler in one process (the main job)."""
    from newsletter.runtime.process import run_forever

    config = config_module.load(_config_path())
    run_forever(config, log_json=log_json)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _fail(exc: Exception, code: int) -> None:
    # One plain line: rich would wrap it at the terminal width.
    message = " ".join(str(exc).split())
    sys.stderr.write(f"error: {message}\n")
    sys.exit(code)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        err.print("aborted")
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
