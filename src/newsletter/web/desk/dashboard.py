"""The desk's home: the issues, the audience's growth, the feeds; drafting a new issue."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.runtime import curation
from newsletter.web.desk.growth import growth_svg, weeks
from newsletter.web.desk.requests import Authed, DeskState, Posted, redirect

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("")
def dashboard(request: Request, editor: Authed, desk: DeskState) -> HTMLResponse:
    store = desk.services.store
    all_issues = store.issues.all()
    counts = desk.queries.status_counts()
    chart_weeks = weeks(desk.now(), desk.settings.newsletter.timezone, 12)
    series = desk.queries.active_at([end for _, end in chart_weeks])
    points = [(start, value) for (start, _), value in zip(chart_weeks, series, strict=True)]
    feeds = store.feeds.all()
    return desk.page(
        request,
        "desk/dashboard.html",
        issues=all_issues,
        draft=store.issues.open_draft(),
        counts=counts,
        chart=growth_svg(points),
        points=points,
        feeds=feeds,
        failing=[feed for feed in feeds if feed.last_status == "error"],
    )


@router.post("/issues/draft")
def new_draft(form: Posted, desk: DeskState) -> Response:
    outcome = curation.draft(desk.services)
    if outcome.issue is None:
        return redirect("/desk", err="empty")
    return redirect(
        f"/desk/issues/{outcome.issue.id}", ok="opened" if outcome.existing else "drafted"
    )
