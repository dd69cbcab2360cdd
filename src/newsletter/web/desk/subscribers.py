"""The desk's subscribers: the list with its filters, adding one address, the CSV export."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import math
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from newsletter.audience import subscribers as subscriber_cases
from newsletter.audience.import_export import export_csv
from newsletter.domain.errors import InvalidAddress, UsageError
from newsletter.domain.model import SubscriberStatus
from newsletter.runtime.audience import audience_of
from newsletter.web.desk.requests import (
    PAGE_SIZE,
    Authed,
    DeskState,
    Page,
    Posted,
    field,
    filter_text,
    redirect,
)

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/subscribers")
def subscribers_page(
    request: Request, editor: Authed, desk: DeskState, q: str = "", status: str = "", page: Page = 1
) -> HTMLResponse:
    chosen = SubscriberStatus(status) if status in set(SubscriberStatus) else None
    found, total = desk.queries.subscribers(
        filter_text("q", q).strip()[:200] or None, chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE
    )
    filters = {"q": q, "status": status}
    return desk.page(
        request,
        "desk/subscribers.html",
        subscribers=found,
        total=total,
        counts=desk.queries.status_counts(),
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        page=page,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
    )


@router.post("/subscribers/add")
def add_subscriber(form: Posted, request: Request, desk: DeskState) -> Response:
    """An editor adds one address; they are recorded as its consent's provenance."""
    back = "/desk/subscribers"
    try:
        _, created = subscriber_cases.add(
            audience_of(desk.services),
            field(form, "email", 400),  # longer than any address: too long is refused
            field(form, "name", 400) or None,
            confirmed=form.get("confirmed") == "1",
            by=request.state.editor.name,
            source="desk",
        )
    except InvalidAddress:
        return redirect(back, err="subscriber")
    except UsageError:
        return redirect(back, err="erased")
    return redirect(back, ok="subscribed" if created else "known")


@router.get("/subscribers/export.csv")
def export(editor: Authed, desk: DeskState) -> StreamingResponse:
    stamp = desk.now().astimezone(desk.zone).strftime("%Y-%m-%d")
    return StreamingResponse(
        export_csv(audience_of(desk.services)),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="abonnes-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
