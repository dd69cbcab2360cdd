"""An issue's preview: the exact email as a reader gets it, its checks, and a test copy."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from newsletter.curate import issues as issue_cases
from newsletter.curate.editors import Editor
from newsletter.domain.errors import InvalidAddress, NewsletterError, UsageError
from newsletter.domain.model import Issue
from newsletter.render.clipping import GMAIL_CLIP_BYTES
from newsletter.render.personalise import personalise
from newsletter.runtime import curation
from newsletter.web.desk.checks import check_issue
from newsletter.web.desk.issues import load
from newsletter.web.desk.requests import Authed, Desk, DeskState, Posted, field, redirect
from newsletter.web.guard import Policy, declare
from newsletter.web.params import RowId

# The email may show remote images; it may run nothing and post nowhere.
EMAIL_PREVIEW = Policy(
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    frame_options="SAMEORIGIN",
    cache="no-store",
)

router = APIRouter(prefix="/desk", include_in_schema=False)


def preview_copy(desk: Desk, issue: Issue, editor: Editor) -> tuple[str, str]:
    """The exact email as a reader gets it, personalised for the editor (inert unsubscribe)."""
    rendered = desk.services.renderer.render_issue(issue)
    recipient = issue_cases.test_recipient(
        desk.settings.newsletter.base_url, editor.email or "apercu@example.org"
    )
    copy = personalise(rendered, recipient)
    return copy.html, copy.text


@router.get("/issues/{issue_id}/preview")
def preview_page(
    request: Request, issue_id: RowId, editor: Authed, desk: DeskState
) -> HTMLResponse:
    issue = load(desk, issue_id)
    try:
        html, text = preview_copy(desk, issue, editor)
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
        alerts=check_issue(issue, html),
        editor_email=editor.email or "",
    )


@router.get("/issues/{issue_id}/preview.html")
def preview_html(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> Response:
    html, _ = preview_copy(desk, load(desk, issue_id), editor)
    declare(request, EMAIL_PREVIEW)
    return HTMLResponse(html)


@router.get("/issues/{issue_id}/preview.txt")
def preview_text(request: Request, issue_id: RowId, editor: Authed, desk: DeskState) -> Response:
    _, text = preview_copy(desk, load(desk, issue_id), editor)
    declare(request, EMAIL_PREVIEW)
    return PlainTextResponse(text)


@router.post("/issues/{issue_id}/test")
def send_test(issue_id: RowId, form: Posted, request: Request, desk: DeskState) -> Response:
    load(desk, issue_id)
    editor: Editor = request.state.editor
    address = field(form, "email", 320) or editor.email or ""
    back = f"/desk/issues/{issue_id}/preview"
    try:
        curation.send_test(desk.services, issue_id, address)
    except UsageError:
        return redirect(back, err="state")
    except InvalidAddress:
        return redirect(back, err="address")
    except NewsletterError:
        return redirect(back, err="provider")
    return redirect(back, ok="tested")
