"""The desk's subscribers: the list with its filters, adding one address, the CSV export and
import (a preview first), and each subscriber's page: history (consent, copies, provider
events), name, unsubscribe, and erasure (admins only). Every change is in the desk's log."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import math
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from newsletter.audience import erasure
from newsletter.audience import subscribers as subscriber_cases
from newsletter.audience.addresses import clean_name, mask_address
from newsletter.audience.csvfile import CsvLimits, CsvRefused, read_table
from newsletter.audience.import_export import export_csv, import_csv, preview_import
from newsletter.domain.errors import InvalidAddress, UsageError
from newsletter.domain.readers import Subscriber, SubscriberStatus
from newsletter.runtime.audience import audience_of
from newsletter.web.desk.labels import DELIVERY_STATES, EVENT_KINDS
from newsletter.web.desk.requests import (
    PAGE_SIZE,
    AdminPosted,
    Authed,
    Desk,
    DeskState,
    Page,
    Posted,
    field,
    filter_text,
    log_action,
    redirect,
)
from newsletter.web.messages import Messages
from newsletter.web.params import RowId

# The desk's forms are capped at 1 MB (web/__init__.py): larger lists go through the CLI.
DESK_CSV = CsvLimits(file_bytes=900_000)

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
    if created:
        log_action(request, desk, "subscriber_added", field(form, "email", 320))
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


@router.get("/subscribers/import")
def import_page(request: Request, editor: Authed, desk: DeskState) -> HTMLResponse:
    return desk.page(request, "desk/import.html", preview=None, csv="")


@router.post("/subscribers/import")
def import_list(form: Posted, request: Request, desk: DeskState) -> Response:
    """First the uploaded file's preview (what each row would do), then, confirmed, the import
    of the very text previewed (read again: the preview decides nothing). A plain `def`: the
    rows' database work runs in the thread pool, not on the event loop."""
    upload = form.get("file")
    if upload is not None and not isinstance(upload, str):
        data = upload.file.read(DESK_CSV.file_bytes + 1)
        name = (upload.filename or "import.csv")[:200]
    else:
        data = field(form, "csv", DESK_CSV.file_bytes, multiline=True).encode("utf-8")
        name = field(form, "filename", 200) or "import.csv"
    pending = form.get("pending") == "1"
    force = form.get("force") == "1"
    try:
        table = read_table(data, DESK_CSV)
    except CsvRefused as exc:
        return desk.page(
            request, "desk/import.html", status_code=422, preview=None, csv="", problem=str(exc)
        )
    audience = audience_of(desk.services)
    if form.get("step") != "import":
        return desk.page(
            request,
            "desk/import.html",
            preview=preview_import(audience, table, force_resubscribe=force),
            why=Messages("fr", desk.settings.newsletter.name),
            csv=data.decode(table.encoding, errors="replace").lstrip("\ufeff"),
            filename=name,
            pending=pending,
            force=force,
            rows=len(table.rows),
        )
    report = import_csv(
        audience,
        table,
        file=name,
        by=request.state.editor.name,
        pending=pending,
        force_resubscribe=force,
    )
    log_action(
        request,
        desk,
        "subscribers_imported",
        f"{name} : {report.added} ajoutés, {report.resubscribed} réinscrits, "
        f"{len(report.rejected)} refusés",
    )
    return redirect("/desk/subscribers", ok="imported")


@router.get("/subscribers/{subscriber_id}")
def subscriber_page(
    request: Request, subscriber_id: RowId, editor: Authed, desk: DeskState
) -> HTMLResponse:
    subscriber = _load(desk, subscriber_id)
    return desk.page(
        request,
        "desk/subscriber.html",
        subscriber=subscriber,
        consent=desk.services.store.subscribers.consent(subscriber_id) or {},
        copies=desk.people.copies(subscriber_id),
        events=desk.people.events(subscriber_id),
        delivery_states=DELIVERY_STATES,
        event_kinds=EVENT_KINDS,
    )


@router.post("/subscribers/{subscriber_id}/edit")
def edit(subscriber_id: RowId, form: Posted, request: Request, desk: DeskState) -> Response:
    subscriber = _load(desk, subscriber_id)
    back = f"/desk/subscribers/{subscriber_id}"
    try:
        name = clean_name(field(form, "name", 400) or None)
    except InvalidAddress:
        return redirect(back, err="name")
    desk.people.rename(subscriber_id, name)
    log_action(request, desk, "subscriber_edited", subscriber.email)
    return redirect(back, ok="edited")


@router.post("/subscribers/{subscriber_id}/unsubscribe")
def unsubscribe(subscriber_id: RowId, form: Posted, request: Request, desk: DeskState) -> Response:
    subscriber = _load(desk, subscriber_id)
    desk.services.store.subscribers.unsubscribe(subscriber_id, desk.now())
    log_action(request, desk, "subscriber_unsubscribed", subscriber.email)
    return redirect(f"/desk/subscribers/{subscriber_id}", ok="unsubscribed")


@router.post("/subscribers/{subscriber_id}/erase")
def erase(subscriber_id: RowId, form: AdminPosted, request: Request, desk: DeskState) -> Response:
    """Erase the person's data (GDPR): admins only; the log keeps the address masked."""
    subscriber = _load(desk, subscriber_id)
    erasure.remove(audience_of(desk.services), subscriber.email)
    log_action(request, desk, "subscriber_erased", mask_address(subscriber.email))
    return redirect("/desk/subscribers", ok="erased")


def _load(desk: Desk, subscriber_id: int) -> Subscriber:
    subscriber = desk.services.store.subscribers.get(subscriber_id)
    if subscriber is None:
        raise HTTPException(404, "aucun abonné avec cet identifiant")
    return subscriber
