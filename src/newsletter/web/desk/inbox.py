"""The inbox: collected articles to pick from, filtered; dismissing and restoring one."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import math
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.store.desk import InboxFilter
from newsletter.web.desk.dashboard import open_draft
from newsletter.web.desk.requests import (
    PAGE_SIZE,
    Authed,
    DeskState,
    Page,
    Posted,
    filter_text,
    redirect,
    safe_next,
)
from newsletter.web.params import RowId

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # of the inbox's date filters

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/inbox")
def inbox(
    request: Request,
    editor: Authed,
    desk: DeskState,
    feed: str = "",
    section: str = "",
    q: str = "",
    since: str = "",
    until: str = "",
    dismissed: str = "",
    page: Page = 1,
) -> HTMLResponse:
    chosen = InboxFilter(
        feed=filter_text("feed", feed) or None,
        section=filter_text("section", section) or None,
        text=filter_text("q", q).strip()[:200] or None,
        since=_local_day(since, desk.zone),
        until=_day_after(until, desk.zone),
        show_dismissed=bool(dismissed),
    )
    entries, total = desk.queries.inbox(chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    uses = desk.queries.uses([entry.article.id for entry in entries])
    all_issues = desk.services.store.issues.all()
    feeds = desk.services.store.feeds.all()
    filters = {
        "feed": feed,
        "section": section,
        "q": q,
        "since": since,
        "until": until,
        "dismissed": dismissed,
    }
    return desk.page(
        request,
        "desk/inbox.html",
        entries=entries,
        uses=uses,
        total=total,
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        feeds=feeds,
        sections=desk.queries.sections(),
        draft=open_draft(all_issues),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@router.post("/articles/{article_id}/dismiss")
def dismiss(article_id: RowId, form: Posted, desk: DeskState) -> Response:
    restore = form.get("restore") == "1"
    if not desk.queries.set_dismissed(article_id, not restore):
        raise HTTPException(404)
    target = safe_next(str(form.get("next", "")), "/desk/inbox")
    return redirect(target, ok="restored" if restore else "dismissed")


def _local_day(text: str, zone: ZoneInfo) -> datetime | None:
    """Midnight of a filter's day (YYYY-MM-DD); None when empty; 422 when not a usable day."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"date invalide (AAAA-MM-JJ attendu) : {text[:40]}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        # Beyond these, midnight in UTC or the day after falls outside what dates can hold.
        raise HTTPException(422, f"date hors limites ({FIRST_DAY} à {LAST_DAY}) : {day}")
    return datetime.combine(day, time(0), zone)


def _day_after(text: str, zone: ZoneInfo) -> datetime | None:
    start = _local_day(text, zone)
    return start + timedelta(days=1) if start else None
