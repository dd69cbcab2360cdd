"""An issue in the desk: its editor page, saving it, adding an article, scheduling, sending,
canceling, reopening, and the progress of its sending."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from newsletter.curate import issues as issue_cases
from newsletter.curate.inbox import InboxFilter
from newsletter.curate.states import is_editable, is_published
from newsletter.domain.errors import UsageError
from newsletter.domain.model import Article, Issue, IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.weekly import WeeklyTime
from newsletter.store.issues import IssueRepository
from newsletter.web.desk.drafting import (
    checked_preview,
    groups,
    ids_in,
    kept,
    load,
    save_form,
    with_added,
)
from newsletter.web.desk.inbox import PANEL_SIZE, inbox_rows
from newsletter.web.desk.labels import ISSUE_STATES
from newsletter.web.desk.requests import (
    AdminSends,
    Authed,
    Desk,
    DeskState,
    Posted,
    field,
    redirect,
    safe_next,
)
from newsletter.web.params import RowId

router = APIRouter(prefix="/desk", include_in_schema=False)


@dataclass(frozen=True)
class EventCounts:
    delivered: int = 0
    bounced: int = 0
    opened: int = 0
    clicked: int = 0
    unsubscribed: int = 0
    available: bool = False


@router.get("/issues/{issue_id}")
def issue_page(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> HTMLResponse:
    issue = load(desk, issue_id)
    store = desk.services.store
    status = store.deliveries.status(issue.id, issue.state)
    next_slot = _next_slot(desk)
    editable = is_editable(issue.state)
    alerts, subject = checked_preview(desk, issue, editor)
    return desk.page(
        request,
        "desk/issue.html",
        issue=issue,
        alerts=alerts,
        subject_shown=subject,
        groups=groups(issue.items),
        rows=inbox_rows(desk, InboxFilter(), 1, PANEL_SIZE) if editable else None,
        q="",
        sections=desk.sections(),
        status=status,
        events=_event_counts(desk, issue.id) if is_published(issue.state) else None,
        audience=store.subscribers.count(SubscriberStatus.ACTIVE),
        slot_date=next_slot.date().isoformat(),
        slot_time=next_slot.strftime("%H:%M"),
        due=is_due(desk, issue),
    )


def is_due(desk: Desk, issue: Issue) -> bool:
    """Scheduled for a time already come: the send is as good as started (the dispatch tick
    picks it up within the minute), so the desk says "envoi en cours" from the start."""
    return (
        issue.state is IssueState.SCHEDULED
        and issue.send_at is not None
        and issue.send_at <= desk.now()
    )


@router.post("/issues/{issue_id}")
def save_issue(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    issue = load(desk, issue_id)
    if not is_editable(issue.state):
        return redirect(f"/desk/issues/{issue_id}", err="state")
    save_form(desk, issue, form)
    anchor = ""
    move = str(form.get("move", ""))
    if move:
        anchor = f"#item-{move.partition(':')[2]}"
    return redirect(f"/desk/issues/{issue_id}?ok=saved{anchor}")


@router.post("/issues/{issue_id}/add")
def add_article(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    issue = load(desk, issue_id)
    target = safe_next(str(form.get("next", "")), f"/desk/issues/{issue_id}")
    if not is_editable(issue.state):
        return redirect(target, err="state")
    added = articles_in(desk, form)
    if not added:
        raise HTTPException(400, "article_id: no such article")
    desk.services.store.issues.replace_items(issue_id, with_added(kept(issue.items), added))
    return redirect(target, ok="added")


def articles_in(desk: Desk, form: FormData) -> list[Article]:
    """The articles a form names by `article_id` (one or many) that exist."""
    found = (desk.services.store.articles.get(i) for i in ids_in(form, "article_id"))
    return [article for article in found if article is not None]


@router.post("/issues/{issue_id}/schedule")
def schedule(issue_id: RowId, form: AdminSends, desk: DeskState) -> Response:
    issue = load(desk, issue_id)
    back = f"/desk/issues/{issue_id}"
    try:
        day = date.fromisoformat(field(form, "date", 10))
        at = time.fromisoformat(field(form, "time", 8))
    except ValueError:
        return redirect(back, err="when")
    when = issue_cases.send_time_in(desk.zone, datetime.combine(day, at))
    if when <= desk.now():
        return redirect(back, err="past")
    if not issue.items:
        return redirect(back, err="empty")
    try:
        issue_cases.schedule(desk.services.store.issues, issue_id, when)
    except UsageError:
        return redirect(back, err="state")
    return redirect(back, ok="scheduled")


@router.post("/issues/{issue_id}/unschedule")
def unschedule(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    return _change_state(desk, issue_id, issue_cases.unschedule, done="unscheduled")


@router.post("/issues/{issue_id}/cancel")
def cancel(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    return _change_state(desk, issue_id, issue_cases.cancel, done="canceled")


def _change_state(
    desk: Desk, issue_id: int, change: Callable[[IssueRepository, int], Issue], done: str
) -> Response:
    """Apply a use case's state change; back to the issue, saying `done` or that its state
    forbids the change."""
    load(desk, issue_id)
    try:
        change(desk.services.store.issues, issue_id)
    except UsageError:
        return redirect(f"/desk/issues/{issue_id}", err="state")
    return redirect(f"/desk/issues/{issue_id}", ok=done)


@router.post("/issues/{issue_id}/reopen")
def reopen(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    load(desk, issue_id)
    moved = desk.services.store.issues.transition(
        issue_id, (IssueState.CANCELED,), IssueState.DRAFT, send_at=None
    )
    outcome = {"ok": "reopened"} if moved else {"err": "state"}
    return redirect(f"/desk/issues/{issue_id}", **outcome)


@router.get("/issues/{issue_id}/send")
def confirm_send(
    request: Request, issue_id: RowId, editor: Authed, desk: DeskState
) -> HTMLResponse:
    issue = load(desk, issue_id)
    alerts, _ = checked_preview(desk, issue, editor)
    return desk.page(
        request,
        "desk/send.html",
        issue=issue,
        alerts=alerts,
        audience=desk.services.store.subscribers.count(SubscriberStatus.ACTIVE),
    )


@router.post("/issues/{issue_id}/send")
def send_now(issue_id: RowId, form: AdminSends, desk: DeskState) -> Response:
    load(desk, issue_id)
    if form.get("confirm") != "yes":
        return redirect(f"/desk/issues/{issue_id}/send", err="confirm")
    try:
        issue_cases.send_now(desk.services.store.issues, issue_id, desk.now())
    except UsageError:
        return redirect(f"/desk/issues/{issue_id}", err="state")
    return redirect(f"/desk/issues/{issue_id}", ok="sending")


@router.get("/issues/{issue_id}/progress.json")
def progress(issue_id: RowId, editor: Authed, desk: DeskState) -> JSONResponse:
    issue = load(desk, issue_id)
    counts = desk.services.store.deliveries.status(issue.id, issue.state)
    done = counts.sent + counts.failed + counts.skipped + counts.uncertain
    sending = issue.state is IssueState.SENDING or is_due(desk, issue)
    # Before the ledger exists (the minute before the tick), the audience it will freeze.
    total = counts.total or (
        desk.services.store.subscribers.count(SubscriberStatus.ACTIVE) if sending else 0
    )
    return JSONResponse(
        {
            "id": issue.id,
            "state": str(issue.state),
            "sending": sending,
            "label": ISSUE_STATES[IssueState.SENDING if sending else issue.state],
            "total": total,
            "sent": counts.sent,
            "failed": counts.failed,
            "pending": counts.pending + counts.sending or (total if not counts.total else 0),
            "skipped": counts.skipped,
            "uncertain": counts.uncertain,
            "percent": round(done * 100 / total) if total else 0,
        },
        headers={"Cache-Control": "no-store"},
    )


def _event_counts(desk: Desk, issue_id: int) -> EventCounts:
    """Recipients per SendGrid event kind, from the signed event webhook."""
    counts = desk.services.store.events.unique_counts(issue_id)

    def total(*kinds: str) -> int:
        return sum(counts.get(kind, 0) for kind in kinds)

    return EventCounts(
        delivered=total("delivered"),
        bounced=total("bounce", "dropped"),
        opened=total("open"),
        clicked=total("click"),
        unsubscribed=total("unsubscribe", "group_unsubscribe"),
        available=bool(counts),  # no event yet: the page explains where numbers come from
    )


def _next_slot(desk: Desk) -> datetime:
    digest = desk.settings.digest
    weekly = WeeklyTime.parse(digest.schedule, desk.settings.newsletter.timezone)
    return weekly.next(desk.now()).astimezone(desk.zone)
