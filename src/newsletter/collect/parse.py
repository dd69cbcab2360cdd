"""Parsing a feed (pure): bytes in, entries out. feedparser stays behind this module.

XML that defines entities is refused first (entity-expansion bombs, external entities); an HTML
page is told apart from a feed; feedparser learns the French and numeric dates of
newsletter.collect.dates. A document that is not a usable feed raises ParseError with its URL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser

from newsletter.collect.dates import parse_french_date, parse_numeric_date
from newsletter.domain.errors import ParseError


@dataclass(frozen=True)
class ParsedFeed:
    """A feed's kind (rss20, atom10, ...), title, and entries as feedparser reads them."""

    version: str
    title: str
    entries: list[Mapping[str, Any]]
    warning: str | None = None  # feedparser recovered from an error (bozo) and still read entries


def parse(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """The feed in `body`, fetched from `url`; ParseError when it is not a usable feed."""
    register_date_handlers()
    if not body.strip():
        raise ParseError("empty response: not a feed", url=url)
    try:
        refuse_entity_definitions(body)
    except ParseError as exc:
        exc.url = url
        raise
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = _trusted_content_type(content_type, body)
    # Sanitising and link resolution are ours (nh3 in newsletter.collect.sanitize): faster and
    # stricter.
    result = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries: list[Mapping[str, Any]] = list(result.get("entries", []))
    version = str(result.get("version") or "")
    problem = _describe(result.get("bozo_exception")) if result.get("bozo") else None
    if not entries:
        broken = result.get("bozo") and not isinstance(result.get("bozo_exception"), _BENIGN)
        if not version and looks_like_html(body, content_type):
            raise ParseError("not a feed: the URL returns an HTML page", url=url)
        if broken:
            # feedparser's lenient fallback may still name a version; nothing usable came out.
            raise ParseError(f"invalid XML: {problem}", url=url)
        if not version:
            raise ParseError("not a feed: no RSS, Atom or RDF document found", url=url)
    title = str(result.get("feed", {}).get("title", ""))
    return ParsedFeed(version=version, title=title, entries=entries, warning=problem)


# Warnings feedparser raises about a feed it read correctly.
_BENIGN = (
    feedparser.CharacterEncodingOverride,
    feedparser.NonXMLContentType,
    feedparser.UndeclaredNamespace,
)


def looks_like_html(body: bytes, content_type: str | None = None) -> bool:
    """An HTML page rather than a feed: by its Content-Type or by how it starts."""
    if content_type and content_type.split(";")[0].strip().lower() in {"text/html"}:
        return True
    head = _prolog_text(body)[:2048].lower()
    head = re.sub(r"^(?:\s|<\?xml[^>]*\?>|<!--.*?-->)*", "", head, flags=re.DOTALL)
    return head.startswith(("<!doctype html", "<html"))


_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(r"<!ENTITY\b", re.IGNORECASE)


def refuse_entity_definitions(body: bytes) -> None:
    """Refuse a document type that declares entities: entity-expansion bombs, external entities.

    Feeds have no use for them; only the prolog (before the root element) can declare them.
    """
    prolog = _prolog_text(body)
    doctype = _DOCTYPE.search(prolog)
    if doctype and _ENTITY_DECLARATION.search(prolog, doctype.end()):
        raise ParseError(
            "XML declares entities in its DOCTYPE (refused: entity expansion or external entities)"
        )


def _prolog_text(body: bytes) -> str:
    """The document up to its root element, as text, whatever its encoding."""
    head = body[:1_000_000]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in {b"<\x00", b"\x00<"}:
        encoding = (
            "utf-16"
            if head[:2] in {b"\xff\xfe", b"\xfe\xff"}
            else ("utf-16-le" if head[:2] == b"<\x00" else "utf-16-be")
        )
        text = head.decode(encoding, errors="replace")
    else:
        text = head.decode("latin-1")
    return text[: _root_start(text)]


def _root_start(text: str) -> int:
    """Where the root element starts: past the XML declaration, comments, PIs and DOCTYPE."""
    position = 0
    length = len(text)
    while position < length:
        position = _skip_spaces(text, position)
        if text.startswith("<?", position):
            end = text.find("?>", position)
            position = length if end < 0 else end + 2
        elif text.startswith("<!--", position):
            end = text.find("-->", position)
            position = length if end < 0 else end + 3
        elif text[position : position + 9].upper() == "<!DOCTYPE":
            position = _doctype_end(text, position)
        else:
            return position
    return length


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and (text[position].isspace() or text[position] == "\ufeff"):
        position += 1
    return position


def _doctype_end(text: str, position: int) -> int:
    """The end of a DOCTYPE, internal subset and quoted strings included."""
    depth = 0
    quote = ""
    for index in range(position, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == ">" and depth <= 0:
            return index + 1
    return len(text)


_SINGLE_BYTE_CHARSETS = re.compile(
    r"charset\s*=\s*[\"']?(?:iso-?8859-\d+|latin-?1|us-ascii|ascii|windows-125\d|cp125\d)",
    re.IGNORECASE,
)


def _trusted_content_type(content_type: str, body: bytes) -> str:
    """The Content-Type to let feedparser see, without a charset that is evidently wrong.

    Servers often label UTF-8 feeds as ISO-8859-1; a body that decodes as UTF-8 and has
    non-ASCII bytes is UTF-8 in practice, so the header's single-byte charset is dropped and
    the XML declaration decides.
    """
    if not _SINGLE_BYTE_CHARSETS.search(content_type) or body.isascii():
        return content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return content_type
    return content_type.split(";")[0].strip()


def _describe(exc: object) -> str:
    if exc is None:
        return "unknown error"
    text = " ".join(str(exc).split())
    return (text or type(exc).__name__)[:200]


_handlers_lock = threading.Lock()
_handlers_registered = False


def register_date_handlers() -> None:
    """Teach feedparser French dates ("jeudi 20 juin 2024 08:30") and dd/mm/yyyy; once."""
    global _handlers_registered
    with _handlers_lock:
        if not _handlers_registered:
            feedparser.registerDateHandler(parse_french_date)
            feedparser.registerDateHandler(parse_numeric_date)
            _handlers_registered = True
