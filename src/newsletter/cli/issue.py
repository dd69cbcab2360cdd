"""`newsletter issue ...`: draft, list, preview, test, schedule, send and follow an issue."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from newsletter.cli.options import config_option, json_option, services
from newsletter.cli.output import emit, err, progress_bar, table, warn_if_clipped
from newsletter.domain.errors import UsageError

if TYPE_CHECKING:
    from newsletter.domain.delivery import DeliveryCounts
    from newsletter.runtime.wiring import Services


@click.group()
def issue() -> None:
    """Draft, preview, schedule and send issues.

    \b
    Example:
        newsletter issue draft && newsletter issue list
    """


@issue.command("draft")
@config_option
@json_option
def issue_draft(as_json: bool) -> None:
    """Draft an issue from the best stories of the inbox, each story once (its lead article).

    \b
    Example:
        newsletter issue draft --json
    """
    from newsletter.runtime import curation

    with services() as svc:
        outcome = curation.draft(svc)
    data = outcome.to_json()
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"issue {data['id']} is already open as a draft ({data['articles']} article(s))"
            if data["existing"]
            else f"drafted issue {data['id']} with {data['articles']} article(s)"
            if data["id"]
            else f"no issue drafted: {data['reason']}"
        ),
    )


@issue.command("list")
@config_option
@json_option
def issue_list(as_json: bool) -> None:
    """List the issues, newest first. An issue is numbered when its sending starts; before, the
    number it would get is shown in brackets.

    \b
    Example:
        newsletter issue list --json
    """
    with services() as svc:
        listed = svc.store.issues.all()
    rows = [
        {
            "id": i.id,
            "number": i.number,  # until sending starts, the number the issue would get
            "numbered": i.numbered,
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
            [
                [r["id"], _number(r), r["state"], r["subject"], r["send_at"], r["articles"]]
                for r in rows
            ],
        ),
    )


def _number(row: dict[str, Any]) -> str:
    """An issue's number for the table: in brackets until sending gives it."""
    return f"{row['number']}" if row["numbered"] else f"({row['number']})"


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
    """Render an issue as recipients will see it (placeholders filled for a sample reader).

    \b
    Example:
        newsletter issue preview 1 --out /tmp/issue.html --screenshot /tmp/issue.png
    """
    from newsletter.curate import issues
    from newsletter.render.personalise import personalise
    from newsletter.runtime import curation

    with services() as svc:
        rendered = svc.renderer.render_issue(issues.get(svc.store.issues, issue_id))
        copy = personalise(rendered, curation.test_recipient(svc, "preview@example.org"))
    warn_if_clipped(rendered)
    body = copy.text if text else copy.html
    if out:
        out.write_text(body, encoding="utf-8")
    else:
        click.echo(body)
    if screenshot:
        from newsletter.render.screenshot import screenshot_html

        for path in screenshot_html(copy.html, screenshot):
            err().print(f"screenshot: {path}")


@issue.command("test")
@config_option
@click.argument("issue_id", type=int)
@click.option(
    "--to",
    "to",
    required=True,
    multiple=True,
    metavar="EMAIL",
    help="Address of a test copy (repeat for several).",
)
def issue_test(issue_id: int, to: tuple[str, ...]) -> None:
    """Send one copy to each EMAIL, outside the ledger.

    \b
    Example:
        newsletter issue test 1 --to me@example.org --to editor@example.org
    """
    from newsletter.runtime import curation

    with services() as svc:
        for address in to:
            sent = curation.send_test(svc, issue_id, address)
            click.echo(f"test copy of issue {issue_id} sent to {sent}")


@issue.command("check")
@config_option
@click.argument("issue_id", type=int)
@json_option
def issue_check(issue_id: int, as_json: bool) -> None:
    """The pre-send check the desk shows: Gmail clip size, alt text, summaries, default subject
    or preheader, empty introduction, old articles, broken links. Exit 0 either way.

    \b
    Example:
        newsletter issue check 1 --json
    """
    from newsletter.runtime import curation

    with services() as svc:
        alerts = curation.presend_check(svc, issue_id)
    data = {
        "id": issue_id,
        "warnings": [{"kind": alert.kind, "message": alert.message} for alert in alerts],
    }
    emit(
        as_json,
        data,
        lambda: click.echo(
            "\n".join(f"warning ({a.kind}): {a.message}" for a in alerts)
            if alerts
            else f"issue {issue_id}: nothing to check before sending"
        ),
    )


@issue.command("schedule")
@config_option
@click.argument("issue_id", type=int)
@click.option("--at", "at", required=True, metavar="ISO8601", help="When to send it.")
def issue_schedule(issue_id: int, at: str) -> None:
    """Schedule an issue; the scheduler sends it when its time comes. Without a UTC offset,
    the time is in [newsletter] timezone.

    \b
    Example:
        newsletter issue schedule 1 --at 2026-12-01T08:00
    """
    from zoneinfo import ZoneInfo

    from newsletter.curate import issues

    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise UsageError(f"--at {at!r} is not an ISO 8601 date-time") from None
    with services() as svc:
        zone = ZoneInfo(svc.config.settings.newsletter.timezone)
        scheduled = issues.schedule(svc.store.issues, issue_id, issues.send_time_in(zone, when))
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
    """Freeze the audience (the first time) and send; running it again resumes.

    \b
    Example:
        newsletter issue send 1 --dry-run && newsletter issue send 1 --yes --json
    """
    from newsletter.deliver.prepare import prepare_send
    from newsletter.runtime.sending import dry_run as run_dry
    from newsletter.runtime.sending import renderer_of, send_issue

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
        plan = prepare_send(
            issue_id,
            issues=svc.store.issues,
            subscribers=svc.store.subscribers,
            render=renderer_of(svc),
        )
        if plan.rendered is not None:
            warn_if_clipped(plan.rendered)
        if not yes and not as_json:
            click.confirm(
                f"Send issue {issue_id} ({plan.issue.subject!r}, {plan.issue.state}) "
                f"to {plan.audience} active subscriber(s)?",
                abort=True,
            )
        with progress_bar("sending", enabled=not as_json) as bar:
            counts = send_issue(
                svc,
                issue_id,
                resend_uncertain=resend_uncertain,
                progress=bar,
                render=plan.render,
            )
        data = _status_json(svc, counts)
    emit(as_json, data, lambda: _print_status(data))


@issue.command("status")
@config_option
@json_option
@click.argument("issue_id", type=int)
def issue_status(issue_id: int, as_json: bool) -> None:
    """Delivery counts and results of an issue: opens (unreliable: privacy proxies open
    everything), clicks, unique clicks, unsubscriptions, bounces, complaints, clicks per link.

    \b
    Example:
        newsletter issue status 1 --json
    """
    from newsletter.curate import issues

    with services() as svc:
        current = issues.get(svc.store.issues, issue_id)
        counts = svc.store.deliveries.status(issue_id, current.state)
        data = _status_json(svc, counts)
    emit(as_json, data, lambda: _print_status(data))


def _status_json(svc: Services, counts: DeliveryCounts) -> dict[str, Any]:
    """The ledger's counts and the issue's results (`issue send` and `issue status` alike)."""
    from newsletter.runtime.results import issue_results

    return {**_ledger_json(counts), **issue_results(svc, counts)}


def _ledger_json(counts: DeliveryCounts) -> dict[str, Any]:
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
    shown = {k: v for k, v in data.items() if isinstance(v, int) and k != "id"}
    table(f"issue {data['id']}: {data['state']}", list(shown), [list(shown.values())])
    for link in data.get("links", []):
        click.echo(f"  {link['unique_clicks']:>5} {link['clicks']:>5}  {link['title'][:60]}")
