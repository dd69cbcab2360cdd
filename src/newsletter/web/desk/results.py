"""The desk's results: one issue's figures, rates and clicks per link beside the previous
issues', and across issues what readers actually read (sections and sources)."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from dataclasses import dataclass

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from newsletter.domain.learning import click_rates
from newsletter.domain.model import IssueState
from newsletter.domain.results import Figures, percent
from newsletter.runtime.results import LEARNING_PERIOD, issue_figures
from newsletter.store.clicks import IssueResults
from newsletter.web.desk.requests import Authed, Desk, DeskState
from newsletter.web.params import RowId

router = APIRouter(prefix="/desk", include_in_schema=False)

COMPARED = 5  # previous issues shown beside one issue
LISTED = 12  # issues in the results across issues


@dataclass(frozen=True)
class IssueRow:
    id: int
    number: int
    subject: str
    figures: Figures


@dataclass(frozen=True)
class ReadRow:
    name: str
    readers: int
    copies: int
    rate: str


def _row(desk: Desk, issue_id: int, number: int, subject: str) -> IssueRow:
    shown, _ = _figures(desk, issue_id)
    return IssueRow(issue_id, number, subject, shown)


def _figures(desk: Desk, issue_id: int) -> tuple[Figures, IssueResults]:
    store = desk.services.store
    issue = store.issues.get(issue_id)
    if issue is None:
        raise HTTPException(404, "no such issue")
    return issue_figures(desk.services, store.deliveries.status(issue_id, issue.state))


def _read(counts: dict[str, tuple[int, int]]) -> list[ReadRow]:
    """Rows of what readers read, most read first (smoothed rate, as the ranking sees it)."""
    rates = click_rates(counts)
    rows = [
        ReadRow(name, readers, copies, percent(rates.get(name)))
        for name, (readers, copies) in counts.items()
    ]
    return sorted(rows, key=lambda row: -rates.get(row.name, 0.0))


@router.get("/issues/{issue_id}/results")
def issue_results(
    request: Request, issue_id: RowId, editor: Authed, desk: DeskState
) -> HTMLResponse:
    store = desk.services.store
    issue = store.issues.get(issue_id)
    if issue is None:
        raise HTTPException(404, "no such issue")
    shown, found = _figures(desk, issue_id)
    earlier = [
        _row(desk, other_id, number, subject)
        for other_id, number, subject, _ in store.clicks.issues_sent(COMPARED + 1)
        if other_id != issue_id and number < issue.number
    ][:COMPARED]
    return desk.page(
        request,
        "desk/results.html",
        issue=issue,
        sent=issue.state is IssueState.SENT,
        figures=shown,
        links=found.links,
        rows=[IssueRow(issue.id, issue.number, issue.subject, shown), *earlier],
        percent=percent,
    )


@router.get("/results")
def results(request: Request, editor: Authed, desk: DeskState) -> HTMLResponse:
    store = desk.services.store
    since = desk.now() - LEARNING_PERIOD
    rows = [_row(desk, *sent[:3]) for sent in store.clicks.issues_sent(LISTED)]
    return desk.page(
        request,
        "desk/results.html",
        issue=None,
        rows=rows,
        sections=_read(store.clicks.per_section(since)),
        sources=_read(store.clicks.per_source(since)),
        percent=percent,
    )
