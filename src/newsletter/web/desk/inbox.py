"""The inbox: collected articles to pick from as stories, best first, filtered; dismissing a
story in one action, restoring an article, correcting a story's funding facts."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from newsletter.curate.inbox import InboxFilter
from newsletter.curate.stories import Story
from newsletter.domain.errors import UsageError
from newsletter.domain.funding import FundingFacts
from newsletter.runtime import curation
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
    page: Page = 1,
) -> HTMLResponse:
    chosen = InboxFilter(
        feed=filter_text("feed", feed) or None,
        section=filter_text("section", section) or None,
        text=filter_text("q", q).strip()[:200] or None,
        since=_local_day(since, desk.zone),
        until=_day_after(until, desk.zone),
    )
    rows = inbox_rows(desk, chosen, page, PAGE_SIZE)
    feeds = desk.services.store.feeds.all()
    filters = {
        "feed": feed,
        "section": section,
        "q": q,
        "since": since,
        "until": until,
    }
    return desk.page(
        request,
        "desk/inbox.html",
        rows=rows,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        feeds=feeds,
        sections=desk.sections(),
        draft=desk.services.store.issues.open_draft(),
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


@dataclass(frozen=True)
class InboxRows:
    """One page of the inbox as stories, best first."""

    stories: list[Story]
    total: int
    page: int
    pages: int


def inbox_rows(desk: Desk, chosen: InboxFilter, page: int, size: int) -> InboxRows:
    """The one place the desk reads the inbox from: the inbox page and the editor's panel.
    The stories of `curation.inbox_stories` (searched by `chosen.text`), kept when one of their
    articles is of the feed, the section and the dates chosen."""
    found = [
        story
        for story in curation.inbox_stories(desk.services, chosen.text)
        if chosen.admits(story)
    ]
    start = (page - 1) * size
    return InboxRows(
        found[start : start + size], len(found), page, max(1, math.ceil(len(found) / size))
    )


def whole_stories(desk: Desk, article_ids: list[int]) -> list[int]:
    """Every article of the inbox's stories that hold one of `article_ids` (a row names its
    story by its lead article), and the ids that are in no story of the inbox."""
    wanted = set(article_ids)
    found = list(article_ids)
    for story in curation.inbox_stories(desk.services):
        ids = [article.id for article in story.articles]
        if wanted.intersection(ids):
            found.extend(i for i in ids if i not in found)
    return found


def dismiss_stories(desk: Desk, article_ids: list[int]) -> int:
    """Dismiss the stories of `article_ids`, each in one action; how many articles."""
    if not article_ids:
        return 0
    try:
        return curation.dismiss_story(desk.services, whole_stories(desk, article_ids))
    except UsageError:
        return 0


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
    if action == "dismiss":
        dismiss_stories(desk, chosen)
    else:
        desk.services.store.stories.dismiss(chosen, dismissed=False)
    return redirect(target, ok="restored" if action == "restore" else "dismissed")


@router.post("/articles/{article_id}/dismiss")
def dismiss(article_id: RowId, form: Posted, desk: DeskState) -> Response:
    restore = form.get("restore") == "1"
    if not desk.services.store.stories.dismiss([article_id], dismissed=not restore):
        raise HTTPException(404)
    target = safe_next(str(form.get("next", "")), "/desk/inbox")
    return redirect(target, ok="restored" if restore else "dismissed")


@router.post("/stories/dismiss")
def dismiss_story(form: Posted, desk: DeskState) -> Response:
    """One row's "Écarter": its whole story (`story`: an article of it)."""
    if not dismiss_stories(desk, ids_in(form, "story")):
        raise HTTPException(404)
    return redirect(safe_next(str(form.get("next", "")), "/desk/inbox"), ok="dismissed")


@router.post("/stories/{article_id}/funding")
def funding(article_id: RowId, request: Request, form: Posted, desk: DeskState) -> Response:
    """Correct the funding facts of the story led by `article_id`, or clear them (`clear`:
    it is no round)."""
    target = safe_next(str(form.get("next", "")), "/desk/inbox")
    facts = None if form.get("clear") else _facts(form, f"-{article_id}")
    try:
        curation.correct_funding(desk.services, article_id, facts, by=request.state.editor.name)
    except UsageError as exc:
        raise HTTPException(422, str(exc)) from None
    return redirect(target, ok="funding")


def _facts(form: FormData, suffix: str) -> FundingFacts:
    """The facts of a row's funding fields (named with `suffix`: the rows share one form);
    422 on an amount that is no whole number."""

    def text(name: str, size: int = 200) -> str:
        return str(form.get(name + suffix, "")).strip()[:size]

    amount = text("amount", 20).replace(" ", "").replace("\u202f", "")
    if amount and not amount.isdigit():
        raise HTTPException(422, f"montant invalide (un nombre entier attendu) : {amount[:20]}")
    investors = tuple(i.strip()[:120] for i in text("investors", 1000).split(",") if i.strip())
    return FundingFacts(
        company=text("company"),
        amount=int(amount) if amount else None,
        currency=text("currency", 3).upper() or None,
        round=text("round", 40) or None,
        investors=investors[:8],
    )


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
