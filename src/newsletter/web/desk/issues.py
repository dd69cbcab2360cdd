"""An issue in the desk: its editor page, saving it, adding an article, scheduling, sending,
canceling, reopening, and the progress of its sending."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData

from newsletter.curate import issues as issue_cases
from newsletter.curate.states import is_editable, is_published
from newsletter.domain.errors import UsageError
from newsletter.domain.model import MAX_ROW_ID, Issue, IssueState, SubscriberStatus
from newsletter.domain.weekly import WeeklyTime
from newsletter.store.issues import IssueRepository, NewItem
from newsletter.web.desk.checks import Alert, check_issue
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


def load(desk: Desk, issue_id: int) -> Issue:
    issue = desk.services.store.issues.get(issue_id)
    if issue is None:
        raise HTTPException(404, "no such issue")
    return issue


@router.get("/issues/{issue_id}")
def issue_page(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> HTMLResponse:
    issue = load(desk, issue_id)
    store = desk.services.store
    alerts: list[Alert] = check_issue(issue, None)
    candidates = store.articles.unused(limit=20) if is_editable(issue.state) else []
    status = store.deliveries.status(issue.id, issue.state)
    next_slot = _next_slot(desk)
    return desk.page(
        request,
        "desk/issue.html",
        issue=issue,
        alerts=alerts,
        candidates=candidates,
        sections=_section_names(desk),
        status=status,
        events=_event_counts(desk, issue.id) if is_published(issue.state) else None,
        audience=store.subscribers.count(SubscriberStatus.ACTIVE),
        slot_date=next_slot.date().isoformat(),
        slot_time=next_slot.strftime("%H:%M"),
        due=issue.state is IssueState.SCHEDULED
        and issue.send_at is not None
        and issue.send_at <= desk.now(),
    )


@router.post("/issues/{issue_id}")
def save_issue(issue_id: RowId, form: Posted, desk: DeskState) -> Response:
    issue = load(desk, issue_id)
    if not is_editable(issue.state):
        return redirect(f"/desk/issues/{issue_id}", err="state")
    items = _items_from_form(issue, form)
    desk.services.store.issues.replace_items(issue_id, items)
    desk.services.store.issues.update_content(
        issue_id,
        subject=field(form, "subject", 300) or None,
        preheader=field(form, "preheader", 300),
        intro=field(form, "intro", 5000, multiline=True),
    )
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
    try:
        article_id = int(str(form.get("article_id", "")))
    except ValueError:
        raise HTTPException(400, "article_id must be a number") from None
    if not 1 <= article_id <= MAX_ROW_ID:
        raise HTTPException(400, f"article_id must be between 1 and {MAX_ROW_ID}")
    article = desk.services.store.articles.get(article_id)
    if article is None:
        raise HTTPException(404, "no such article")
    kept = [_keep(item) for item in issue.items]
    if all(item.article_id != article_id for item in kept):
        kept.append(NewItem(article_id=article_id, section=article.section))
        desk.services.store.issues.replace_items(issue_id, kept)
    return redirect(target, ok="added")


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
    return desk.page(
        request,
        "desk/send.html",
        issue=issue,
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
    return JSONResponse(
        {
            "id": issue.id,
            "state": str(issue.state),
            "label": ISSUE_STATES[issue.state],
            "total": counts.total,
            "sent": counts.sent,
            "failed": counts.failed,
            "pending": counts.pending + counts.sending,
            "skipped": counts.skipped,
            "uncertain": counts.uncertain,
            "percent": round(done * 100 / counts.total) if counts.total else 0,
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


def _section_names(desk: Desk) -> list[str]:
    configured = [feed.section for feed in desk.settings.feeds if feed.section]
    return list(dict.fromkeys([*configured, *desk.queries.sections()]))


def _next_slot(desk: Desk) -> datetime:
    digest = desk.settings.digest
    weekly = WeeklyTime.parse(digest.schedule, desk.settings.newsletter.timezone)
    return weekly.next(desk.now()).astimezone(desk.zone)


def _keep(item: Any) -> NewItem:
    return NewItem(
        article_id=item.article.id, section=item.section, title=item.title, summary=item.summary
    )


def _items_from_form(issue: Issue, form: FormData) -> list[NewItem]:
    """The issue's items in the order the form lists them, with the editor's overrides.

    Only articles already in the issue count; a move or a removal asked by a button is applied
    after. A title or summary equal to the article's own is stored as no override.
    """
    current = {item.article.id: item for item in issue.items}
    order: list[int] = []
    for raw in form.getlist("item"):
        try:
            article_id = int(str(raw))
        except ValueError:
            continue
        if article_id in current and article_id not in order:
            order.append(article_id)
    order += [article_id for article_id in current if article_id not in order]
    removed = str(form.get("remove", ""))
    if removed.isdigit():
        order = [i for i in order if i != int(removed)]
    direction, _, moved = str(form.get("move", "")).partition(":")
    if moved.isdigit() and int(moved) in order:
        at = order.index(int(moved))
        to = at - 1 if direction == "up" else at + 1 if direction == "down" else at
        if 0 <= to < len(order):
            order[at], order[to] = order[to], order[at]
    items: list[NewItem] = []
    for article_id in order:
        article = current[article_id].article
        if f"title-{article_id}" in form:
            title = field(form, f"title-{article_id}", 500)
            summary = field(form, f"summary-{article_id}", 3000, multiline=True)
            section = field(form, f"section-{article_id}", 200) or None
        else:
            kept = current[article_id]
            title, summary, section = kept.display_title, kept.display_summary, kept.section
        items.append(
            NewItem(
                article_id=article_id,
                section=section,
                title=title if title and title != article.title else None,
                summary=summary if summary != article.summary.strip() else None,
            )
        )
    return items
