"""The issue editor's live half: autosave with additions, removals and dismissals in the same
request, and the inbox panel's rows. JSON and HTML fragments for /desk/assets/editor.js; the
editor page itself (and its plain-form fallback) is in issues.py."""

# No `from __future__ import annotations`: FastAPI reads the route functions' annotations.
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from newsletter.curate.inbox import InboxFilter
from newsletter.curate.states import is_editable
from newsletter.web.desk.drafting import (
    checked_preview,
    groups,
    ids_in,
    load,
    save_form,
)
from newsletter.web.desk.inbox import PANEL_SIZE, dismiss_stories, inbox_rows
from newsletter.web.desk.labels import PROBLEMS
from newsletter.web.desk.requests import Authed, Desk, DeskState, Page, Posted, filter_text
from newsletter.web.params import RowId

router = APIRouter(prefix="/desk", include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


@router.post("/issues/{issue_id}/edit")
def edit(request: Request, issue_id: RowId, form: Posted, desk: DeskState) -> JSONResponse:
    """Save the editor's form as it is on screen, add (`add`), remove (`remove`) and dismiss
    (`dismiss`: their whole stories) articles, and answer with what the page shows after: the
    pre-send check, the subject as sent, and the items grouped by section when they changed."""
    issue = load(desk, issue_id)
    if not is_editable(issue.state):
        return JSONResponse({"error": PROBLEMS["state"]}, status_code=409, headers=NO_STORE)
    store = desk.services.store
    found = (store.articles.get(i) for i in ids_in(form, "add"))
    added = [article for article in found if article is not None]
    save_form(desk, issue, form, added)
    dismissed = ids_in(form, "dismiss")
    dismiss_stories(desk, dismissed)
    saved = load(desk, issue_id)
    alerts, subject = checked_preview(desk, saved, request.state.editor)
    restructured = bool(added or ids_in(form, "remove") or form.get("restructure"))
    return JSONResponse(
        {
            "saved": True,
            "count": len(saved.items),
            "subject": subject,
            "checks": _fragment(desk, "desk/_checks.html", alerts=alerts),
            "alerts": len(alerts),
            "items": _fragment(desk, "desk/_items.html", issue=saved, groups=groups(saved.items))
            if restructured
            else None,
            "panel": bool(added or dismissed),
        },
        headers=NO_STORE,
    )


@router.get("/issues/{issue_id}/panel")
def panel(
    issue_id: RowId, editor: Authed, desk: DeskState, q: str = "", page: Page = 1
) -> HTMLResponse:
    """The editor's inbox panel: one page of the stories no issue holds yet, searched."""
    issue = load(desk, issue_id)
    chosen = InboxFilter(text=filter_text("q", q).strip()[:200] or None)
    rows = inbox_rows(desk, chosen, page, PANEL_SIZE)
    body = _fragment(desk, "desk/_panel.html", issue=issue, rows=rows, q=q)
    return HTMLResponse(body, headers=NO_STORE)


def _fragment(desk: Desk, template: str, **context: object) -> str:
    return desk.env.get_template(template).render(**context)
