"""An issue's preview: the exact email as a reader gets it, its checks, and a test copy."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from newsletter.audience.addresses import normalise_address
from newsletter.curate.editors import Editor
from newsletter.domain.errors import InvalidAddress, NewsletterError, UsageError
from newsletter.render.clipping import GMAIL_CLIP_BYTES
from newsletter.runtime import curation
from newsletter.web.desk.drafting import load, presend_alerts, preview_copy
from newsletter.web.desk.requests import Authed, DeskState, Posted, field, redirect, safe_next
from newsletter.web.guard import Policy, declare
from newsletter.web.params import RowId

# The email may show remote images; it may run nothing and post nowhere.
EMAIL_PREVIEW = Policy(
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    frame_options="SAMEORIGIN",
    cache="no-store",
)

MAX_TEST_COPIES = 10

router = APIRouter(prefix="/desk", include_in_schema=False)


@router.get("/issues/{issue_id}/preview")
def preview_page(
    request: Request, issue_id: RowId, editor: Authed, desk: DeskState
) -> HTMLResponse:
    issue = load(desk, issue_id)
    try:
        copy = preview_copy(desk, issue, editor)
        html, text = copy.html, copy.text
    except NewsletterError as exc:
        return desk.page(
            request, "desk/preview.html", issue=issue, failed=str(exc), alerts=[], size=0
        )
    size = len(html.encode("utf-8"))
    return desk.page(
        request,
        "desk/preview.html",
        issue=issue,
        failed=None,
        text=text,
        size=size,
        limit=GMAIL_CLIP_BYTES,
        percent=min(100, round(size * 100 / GMAIL_CLIP_BYTES)),
        alerts=presend_alerts(desk, issue, html),
        editor_email=editor.email or "",
    )


@router.get("/issues/{issue_id}/preview.html")
def preview_html(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> Response:
    html = preview_copy(desk, load(desk, issue_id), editor).html
    declare(request, EMAIL_PREVIEW)
    return HTMLResponse(html)


@router.get("/issues/{issue_id}/preview.txt")
def preview_text(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> Response:
    text = preview_copy(desk, load(desk, issue_id), editor).text
    declare(request, EMAIL_PREVIEW)
    return PlainTextResponse(text)


@router.post("/issues/{issue_id}/test")
def send_test(issue_id: RowId, form: Posted, request: Request, desk: DeskState) -> Response:
    """A test copy to each address given (up to ten, separated by commas, semicolons, spaces or
    lines); all are checked before any is sent."""
    load(desk, issue_id)
    editor: Editor = request.state.editor
    given = field(form, "email", 4000, multiline=True) or editor.email or ""
    addresses = list(dict.fromkeys(part for part in re.split(r"[\s,;]+", given) if part))
    back = safe_next(str(form.get("next", "")), f"/desk/issues/{issue_id}/preview")
    try:
        if not addresses or len(addresses) > MAX_TEST_COPIES:
            raise InvalidAddress(f"between 1 and {MAX_TEST_COPIES} addresses")
        for address in addresses:
            normalise_address(address)
        for address in addresses:
            curation.send_test(desk.services, issue_id, address)
    except UsageError:
        return redirect(back, err="state")
    except InvalidAddress:
        return redirect(back, err="address")
    except NewsletterError:
        return redirect(back, err="provider")
    return redirect(back, ok="tested" if len(addresses) == 1 else "tested_many")
