"""The inbox: collected articles to pick from, filtered; dismissing and restoring one."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.runtime import curation
from newsletter.store.desk import ArticleUse, InboxEntry, InboxFilter
from newsletter.web.desk.drafting import ids_in, kept, with_added
from newsletter.web.desk.requests import (
    PAGE_SIZE,
    Authed,
    Desk,
    DeskState,
    Page,
    Posted,
    filter_text,
    redirect,
    safe_next,
)
from newsletter.web.params import RowId

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # of the inbox's date filters

PANEL_SIZE = 25  # rows of the editor's inbox panel

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
    rows = inbox_rows(desk, chosen, page, PAGE_SIZE)
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
        rows=rows,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        feeds=feeds,
        sections=desk.queries.sections(),
        draft=desk.services.store.issues.open_draft(),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@dataclass(frozen=True)
class InboxRows:
    """One page of the inbox as compact rows: the articles, the issues that hold each one."""

    entries: list[InboxEntry]
    uses: dict[int, list[ArticleUse]]
    total: int
    page: int
    pages: int


def inbox_rows(desk: Desk, chosen: InboxFilter, page: int, size: int) -> InboxRows:
    """The one place the desk reads the inbox from: the inbox page and the editor's panel."""
    entries, total = desk.queries.inbox(chosen, size, (page - 1) * size)
    uses = desk.queries.uses([entry.article.id for entry in entries])
    return InboxRows(entries, uses, total, page, max(1, math.ceil(total / size)))


@router.post("/inbox/bulk")
def bulk(form: Posted, desk: DeskState) -> Response:
    """Several articles at once: add them to the open draft (opening one when there is none),
    dismiss them, or restore them."""
    target = safe_next(str(form.get("next", "")), "/desk/inbox")
    chosen = ids_in(form, "article_id")
    action = str(form.get("action", ""))
    if not chosen:
        return redirect(target, err="nothing")
    if action == "add":
        found = (desk.services.store.articles.get(i) for i in chosen)
        added = [article for article in found if article is not None]
        draft = curation.open_or_start(desk.services)
        desk.services.store.issues.replace_items(draft.id, with_added(kept(draft.items), added))
        return redirect(target, ok="added")
    if action not in ("dismiss", "restore"):
        raise HTTPException(400, "action: add, dismiss or restore")
    for article_id in chosen:
        desk.queries.set_dismissed(article_id, action == "dismiss")
    return redirect(target, ok="restored" if action == "restore" else "dismissed")


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
