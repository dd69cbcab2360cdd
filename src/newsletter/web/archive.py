"""The public archive: a web page for every sent issue, the list of them, and an RSS feed.

Only sent issues are public. An issue's page is its own template (`archive/issue.html`), not
the email: the same words and cards (`Renderer.issue_view`), none of the email's
subscriber-only lines, a sign-up box, Open Graph and Twitter card tags, the canonical URL, and
the way back to the list and to the previous and next issues. Nothing personal is in it.
"""

from __future__ import annotations

import html
import re
from email.utils import format_datetime
from xml.etree import ElementTree

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from newsletter.domain.model import Issue
from newsletter.runtime.wiring import Services
from newsletter.web.guard import Policy, declare
from newsletter.web.params import RowId, SearchText, is_control
from newsletter.web.public import HONEYPOT, public_state, sent_issues

FEED_SIZE = 30

# Feed images are remote; the page has its own styles, no script, and one form (the sign-up).
ARCHIVE_PAGE = Policy(
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

router = APIRouter(prefix="/archive", tags=["archive"])


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


@router.get("", summary="The list of sent issues", response_class=HTMLResponse)
def index(request: Request, q: SearchText = "") -> HTMLResponse:
    """The sent issues, newest first, each with its lead story; `q` keeps those that mention
    it (accents and case aside)."""
    public = public_state(request)
    text = "".join(ch for ch in q if not is_control(ch)).strip()
    found = sent_issues(public.services, text or None)
    sent = [public.services.store.issues.get(issue.id) for issue in found]
    issues = [issue for issue in sent if issue is not None]
    declare(request, ARCHIVE_PAGE)
    return public.page(
        "archive/index.html",
        title=public.t("archive_title"),
        issues=issues,
        leads={issue.id: _lead(issue) for issue in issues},
        q=text,
        wide=True,
    )


@router.get(
    "/feed.xml",
    summary="RSS 2.0 feed of sent issues",
    response_class=Response,
    responses={200: {"content": {"application/rss+xml": {}}, "description": "RSS 2.0"}},
)
def feed(request: Request) -> Response:
    services = _services(request)
    newsletter = services.config.settings.newsletter
    return Response(
        rss(newsletter.name, newsletter.base_url, newsletter.language, sent_issues(services)),
        media_type="application/rss+xml; charset=utf-8",
    )


@router.get(
    "/{issue_id}",
    summary="The web page of a sent issue",
    response_class=HTMLResponse,
    responses={404: {"description": "No sent issue has this id"}},
)
def web_version(request: Request, issue_id: RowId) -> HTMLResponse:
    public = public_state(request)
    services = public.services
    sent = sent_issues(services)  # newest first
    place = next((i for i, issue in enumerate(sent) if issue.id == issue_id), None)
    issue = services.store.issues.get(issue_id) if place is not None else None
    if place is None or issue is None:
        raise HTTPException(404, "no sent issue with this number")
    view = services.renderer.issue_view(issue)
    base_url = services.config.settings.newsletter.base_url
    lead = next((item for section in view.sections for item in section.items), None)
    declare(request, ARCHIVE_PAGE)
    return public.page(
        "archive/issue.html",
        title=view.subject,
        issue=issue,
        view=view,
        lead=lead,
        canonical=f"{base_url}/archive/{issue.id}",
        description=view.preheader or (lead.summary if lead else ""),
        newer=sent[place - 1] if place > 0 else None,
        older=sent[place + 1] if place + 1 < len(sent) else None,
        honeypot=HONEYPOT,
        sections=public.sections,
        ticked=None,
        wide=True,
    )


def _lead(issue: Issue) -> str | None:
    """The title of the issue's lead story (its first article)."""
    items = sorted(issue.items, key=lambda item: item.position)
    return items[0].display_title if items else None


def rss(name: str, base_url: str, language: str, sent: list[Issue]) -> bytes:
    """An RSS 2.0 document of the newest sent issues, written by an XML serializer.

    Readers take `description` as HTML, and many (feedparser among them) guess whether a
    `title` is HTML from its look. So every human text (the subject, the preheader, which is
    the lead article's title from a feed, the newsletter's name) is made HTML text first, then
    escaped by the serializer: a reader shows `<script>` as those characters and finds no
    markup. Characters XML cannot hold are dropped.
    """
    root = ElementTree.Element("rss", version="2.0")
    channel = ElementTree.SubElement(root, "channel")
    _text(channel, "title", _html_text(name))
    _text(channel, "link", f"{base_url}/archive")
    _text(channel, "description", _html_text(f"Les numéros de {name}"))
    _text(channel, "language", language)
    ordered = sorted(sent, key=lambda i: i.sent_at or i.created_at, reverse=True)[:FEED_SIZE]
    if ordered:
        newest = ordered[0].sent_at or ordered[0].created_at
        _text(channel, "lastBuildDate", format_datetime(newest))
    for issue in ordered:
        item = ElementTree.SubElement(channel, "item")
        link = f"{base_url}/archive/{issue.id}"
        _text(item, "title", _html_text(issue.subject))
        _text(item, "link", link)
        _text(item, "guid", link).set("isPermaLink", "true")
        _text(item, "description", _html_text(issue.preheader or issue.subject))
        _text(item, "pubDate", format_datetime(issue.sent_at or issue.created_at))
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


# Characters outside XML 1.0's Char production (controls, lone surrogates, U+FFFE/FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(parent: ElementTree.Element, tag: str, text: str) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag)
    element.text = _NOT_XML.sub("", text)
    return element


def _html_text(text: str) -> str:
    """Plain text as HTML: every <, > and & shown as such, never parsed as markup."""
    return html.escape(text, quote=False)
