"""The public archive: the web version of every sent issue, a list of them, and an RSS feed.

Only sent issues are public. The web version is the email as it was sent, with the
per-recipient placeholders filled with neutral values (the unsubscribe link points to the
sign-up page, the name is empty): no token, no address, nothing personal.
"""

from __future__ import annotations

import html
import re
from email.utils import format_datetime
from xml.etree import ElementTree

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment

from newsletter.curate.states import is_published
from newsletter.domain.model import Issue, Recipient, RenderedMessage
from newsletter.render.personalise import personalise
from newsletter.runtime.wiring import Services
from newsletter.web.guard import Policy, declare
from newsletter.web.params import RowId, SearchText, is_control

FEED_SIZE = 30


def public_copy(message: RenderedMessage, base_url: str) -> tuple[str, str]:
    """The message's HTML and text with neutral values in place of personal ones."""
    neutral = Recipient(
        delivery_id=0,
        subscriber_id=0,
        email="",
        name=None,
        unsubscribe_url=f"{base_url}/subscribe",
    )
    copy = personalise(message, neutral)
    return copy.html, copy.text


# The archive shows the email as sent: remote images, its own styles, no script.
ARCHIVE_PAGE = Policy(
    "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline'; "
    "font-src https: data:; base-uri 'none'; form-action 'self'"
)

router = APIRouter(prefix="/archive", tags=["archive"])


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _sent_issues(services: Services, text: str | None = None) -> list[Issue]:
    found = services.store.issues.all(text)
    return [issue for issue, _ in found if is_published(issue.state)]


def _sent_message(services: Services, issue_id: int) -> RenderedMessage:
    issue = services.store.issues.get(issue_id)
    if issue is None or not is_published(issue.state):
        raise HTTPException(404, "no sent issue with this number")
    frozen = services.store.issues.frozen_render(issue_id)
    if frozen is not None:
        return frozen
    return services.renderer.render_issue(issue)


@router.get("", summary="The list of sent issues", response_class=HTMLResponse)
def index(request: Request, q: SearchText = "") -> HTMLResponse:
    """The sent issues, newest first; `q` keeps those that mention it (accents and case
    aside)."""
    services = _services(request)
    templates: Environment = request.app.state.templates
    text = "".join(ch for ch in q if not is_control(ch)).strip()
    body = templates.get_template("archive/index.html").render(
        newsletter=services.config.settings.newsletter.name,
        language=services.config.settings.newsletter.language,
        issues=_sent_issues(services, text or None),
        q=text,
    )
    declare(request, ARCHIVE_PAGE)
    return HTMLResponse(body)


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
        rss(newsletter.name, newsletter.base_url, newsletter.language, _sent_issues(services)),
        media_type="application/rss+xml; charset=utf-8",
    )


@router.get(
    "/{issue_id}",
    summary="The web version of a sent issue",
    response_class=HTMLResponse,
    responses={404: {"description": "No sent issue has this id"}},
)
def web_version(request: Request, issue_id: RowId) -> HTMLResponse:
    services = _services(request)
    message = _sent_message(services, issue_id)
    html, _ = public_copy(message, services.config.settings.newsletter.base_url)
    declare(request, ARCHIVE_PAGE)
    return HTMLResponse(html)


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
