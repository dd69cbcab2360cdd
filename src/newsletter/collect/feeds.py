"""Feeds: fetch (I/O) apart from parse (pure).

`fetch` reads a feed over HTTP(S) or from disk within limits that a hostile or broken server
cannot stretch: one deadline covering connect, redirects and the whole body; a byte cap applied
while streaming and again after decompression (gzip, deflate, brotli); a capped number of
redirects, only to http(s). It sends the validators of the previous fetch (ETag,
Last-Modified) so an unchanged feed costs a 304. Every connection, redirects included, goes
through the address guard (newsletter.collect.address_guard): public addresses only, except the
origin of the feed the operator listed; only that listed location may be a local file.

`parse` turns the bytes into entries with feedparser, after refusing XML that defines entities
(entity-expansion bombs, external entities), and tells an HTML page from a feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import ssl
import threading
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import feedparser
import httpx

from newsletter import __version__
from newsletter.collect.address_guard import LISTED_ORIGIN, GuardedTransport, Origin, origin_of
from newsletter.domain.errors import FetchError, ParseError

USER_AGENT = f"newsletter/{__version__} (feed collector; +https://github.com/newsletter/newsletter)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"
CHUNK_SIZE = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


class FeedGone(FetchError):
    """The server says the feed is gone for good (HTTP 410): stop asking."""


@dataclass(frozen=True)
class FetchLimits:
    timeout: float = 20.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5


@dataclass(frozen=True)
class Validators:
    """What the previous fetch left to make the next one conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A feed's bytes as the server sent them (decompressed), or news that nothing changed."""

    url: str
    status: int
    body: bytes = b""
    content_type: str | None = None
    validators: Validators = field(default_factory=Validators)
    moved_to: str | None = None  # every redirect on the way was permanent: the feed's new URL

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def make_client(concurrency: int, limits: FetchLimits) -> httpx.AsyncClient:
    """The HTTP client of one collection run: pooled, guarded, no automatic redirects or decoding.

    No proxy from the environment: a proxy would resolve host names past the address guard.
    """
    pools = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        transport=GuardedTransport(_tls_context(), pools),
        follow_redirects=False,
        timeout=httpx.Timeout(limits.timeout),
        headers={"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """Certificate verification as httpx sets it up, built once per process (~50 ms each)."""
    context: ssl.SSLContext = httpx.create_ssl_context()
    return context


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    limits: FetchLimits,
    validators: Validators | None = None,
    listed_url: str | None = None,
) -> Fetched:
    """Fetch `url` (http, https, file: or a path) within `limits`; FetchError on any failure.

    `listed_url` is the feed location the operator listed that this fetch serves (the feed, or
    a page one of its items links to). Only that very location may be a file or a path, and
    only its origin may be on a non-public address: a client from `make_client` refuses the
    rest (AddressRefused).
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in {"http", "https"} and url != listed_url:
        raise FetchError(f"refused: {url[:200]} is not an http(s) URL")
    listed_origin = origin_of(listed_url) if listed_url else None
    try:
        async with asyncio.timeout(limits.timeout):
            if scheme in {"http", "https"}:
                return await _fetch_http(
                    client, url, limits, validators or Validators(), listed_origin
                )
            return await asyncio.to_thread(read_local, url, limits.max_bytes)
    except TimeoutError:
        raise FetchError(f"timed out after {limits.timeout:g}s") from None


def read_local(url: str, max_bytes: int) -> Fetched:
    """A feed on disk (file: URL or path), read with the same size cap as a download."""
    path = Path(url2pathname(urlsplit(url).path)) if url.startswith("file:") else Path(url)
    try:
        with path.open("rb") as handle:
            body = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise FetchError(f"no such file: {path}") from None
    except OSError as exc:
        raise FetchError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(body) > max_bytes:
        raise FetchError(f"larger than {max_bytes} bytes: {path}")
    return Fetched(url=url, status=200, body=body)


async def _fetch_http(
    client: httpx.AsyncClient,
    url: str,
    limits: FetchLimits,
    validators: Validators,
    listed_origin: Origin | None,
) -> Fetched:
    headers = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    seen = {url}
    permanent = True
    current = url
    extensions = {LISTED_ORIGIN: listed_origin} if listed_origin else None
    for _ in range(limits.max_redirects + 1):
        try:
            async with client.stream(
                "GET", current, headers=headers, extensions=extensions
            ) as response:
                if response.status_code in REDIRECTS:
                    target = _redirect_target(response, current)
                    if target in seen:
                        raise FetchError(f"redirect loop at {target}")
                    seen.add(target)
                    permanent = permanent and response.status_code in PERMANENT_REDIRECTS
                    current = target
                    continue
                moved_to = current if permanent and current != url else None
                if response.status_code == 304:
                    await response.aread()  # empty; reading it lets the connection be reused
                    return Fetched(
                        url=current, status=304, validators=validators, moved_to=moved_to
                    )
                _check_status(response)
                body = await _read_body(response, limits.max_bytes)
                return Fetched(
                    url=current,
                    status=response.status_code,
                    body=body,
                    content_type=response.headers.get("content-type"),
                    validators=Validators(
                        etag=response.headers.get("etag"),
                        last_modified=response.headers.get("last-modified"),
                    ),
                    moved_to=moved_to,
                )
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {limits.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise FetchError(_describe_http_error(exc)) from None
        except httpx.InvalidURL as exc:  # 0177.0.0.1, [::1: what the HTTP client cannot read
            raise FetchError(f"invalid URL: {exc}"[:300]) from None
    raise FetchError(f"too many redirects (more than {limits.max_redirects})")


def _redirect_target(response: httpx.Response, current: str) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError(f"HTTP {response.status_code} redirect without a Location header")
    target: str = urljoin(current, str(location))
    if urlsplit(target).scheme.lower() not in {"http", "https"}:
        # A web server must never send us to a file: URL or any other scheme.
        raise FetchError(f"redirect to a non-http URL refused: {target[:200]}")
    return target


def _check_status(response: httpx.Response) -> None:
    code = response.status_code
    if code == 410:
        raise FeedGone("HTTP 410 Gone: the feed was removed; paused until its URL changes")
    if code != 200:
        reason = response.reason_phrase or ""
        raise FetchError(f"HTTP {code} {reason}".strip())


def _describe_http_error(exc: httpx.HTTPError) -> str:
    kind = {
        httpx.ConnectError: "cannot connect",
        httpx.RemoteProtocolError: "broken HTTP response",
        httpx.ReadError: "connection lost while reading",
        httpx.UnsupportedProtocol: "unsupported URL",
        httpx.InvalidURL: "invalid URL",
    }
    label = next((text for cls, text in kind.items() if isinstance(exc, cls)), "HTTP error")
    with contextlib.suppress(RuntimeError):  # RuntimeError: no request attached
        label = f"{label} to {exc.request.url.host}" if label == "cannot connect" else label
    detail = " ".join(str(exc).split()) or type(exc).__name__
    return f"{label}: {detail}"[:300]


async def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"response larger than {max_bytes} bytes (Content-Length {declared})")
    decoder = _decoder_for(response.headers.get("content-encoding", ""), max_bytes)
    parts: list[bytes] = []
    raw_total = 0
    decoded_total = 0
    async for chunk in response.aiter_raw(CHUNK_SIZE):
        raw_total += len(chunk)
        if raw_total > max_bytes:
            raise FetchError(f"response larger than {max_bytes} bytes")
        decoded = decoder.decode(chunk, max_bytes - decoded_total)
        decoded_total += len(decoded)
        parts.append(decoded)
    tail = decoder.flush(max_bytes - decoded_total)
    parts.append(tail)
    return b"".join(parts)


# --- decompression with a cap on the decompressed size --------------------------------------


class _Decoder(Protocol):
    def decode(self, chunk: bytes, room: int) -> bytes: ...
    def flush(self, room: int) -> bytes: ...


def _too_big(max_bytes: int) -> FetchError:
    return FetchError(f"response larger than {max_bytes} bytes after decompression")


class _Identity:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def decode(self, chunk: bytes, room: int) -> bytes:
        return chunk

    def flush(self, room: int) -> bytes:
        return b""


class _Zlib:
    """gzip or deflate; never inflates more than the room left plus one byte."""

    def __init__(self, max_bytes: int, wbits: int) -> None:
        self.max_bytes = max_bytes
        self.wbits = wbits
        self.inflater = zlib.decompressobj(wbits)
        self.started = False

    def decode(self, chunk: bytes, room: int) -> bytes:
        try:
            return self._inflate(chunk, room)
        except zlib.error as exc:
            if self.wbits == zlib.MAX_WBITS and not self.started:
                # "deflate" is raw deflate on some servers, zlib-wrapped on others.
                self.wbits = -zlib.MAX_WBITS
                self.inflater = zlib.decompressobj(self.wbits)
                return self.decode(chunk, room)
            raise FetchError(f"corrupt compressed response: {exc}") from None

    def _inflate(self, data: bytes, room: int) -> bytes:
        out = [self.inflater.decompress(data, room + 1)]
        size = len(out[0])
        while self.inflater.unconsumed_tail and size <= room:
            more = self.inflater.decompress(self.inflater.unconsumed_tail, room - size + 1)
            if not more:
                break
            out.append(more)
            size += len(more)
        self.started = True
        if size > room:
            raise _too_big(self.max_bytes)
        return b"".join(out)

    def flush(self, room: int) -> bytes:
        tail = self.inflater.flush()
        if len(tail) > room:
            raise _too_big(self.max_bytes)
        return tail


class _Brotli:
    def __init__(self, max_bytes: int) -> None:
        import brotli

        self.max_bytes = max_bytes
        self.error = brotli.error
        self.decompressor = brotli.Decompressor()

    def decode(self, chunk: bytes, room: int) -> bytes:
        try:
            out = [self.decompressor.process(chunk, output_buffer_limit=room + 1)]
            size = len(out[0])
            while size <= room and not self.decompressor.can_accept_more_data():
                more = self.decompressor.process(b"", output_buffer_limit=room - size + 1)
                if not more:
                    break
                out.append(more)
                size += len(more)
        except self.error as exc:
            raise FetchError(f"corrupt compressed response: {exc}") from None
        if size > room:
            raise _too_big(self.max_bytes)
        return b"".join(out)

    def flush(self, room: int) -> bytes:
        return b""


def _decoder_for(content_encoding: str, max_bytes: int) -> _Decoder:
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return _Identity(max_bytes)
    if len(codings) > 1:
        raise FetchError(f"unsupported Content-Encoding: {content_encoding}")
    coding = codings[0]
    if coding in {"gzip", "x-gzip"}:
        return _Zlib(max_bytes, 16 + zlib.MAX_WBITS)
    if coding == "deflate":
        return _Zlib(max_bytes, zlib.MAX_WBITS)
    if coding == "br":
        return _Brotli(max_bytes)
    raise FetchError(f"unsupported Content-Encoding: {content_encoding}")


# --- parsing ----------------------------------------------------------------------------------


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
        raise ParseError("empty response: not a feed")
    refuse_entity_definitions(body)
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
            raise ParseError("not a feed: the URL returns an HTML page")
        if broken:
            # feedparser's lenient fallback may still name a version; nothing usable came out.
            raise ParseError(f"invalid XML: {problem}")
        if not version:
            raise ParseError("not a feed: no RSS, Atom or RDF document found")
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


# --- dates feedparser does not read on its own -------------------------------------------------

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "février": 2, "fevr": 2, "févr": 2,
    "fev": 2, "fév": 2, "mars": 3, "mar": 3, "avril": 4, "avr": 4, "mai": 5, "juin": 6,
    "juillet": 7, "juil": 7, "aout": 8, "août": 8, "aou": 8, "aoû": 8, "septembre": 9,
    "sept": 9, "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11,
    "decembre": 12, "décembre": 12, "dec": 12, "déc": 12,
}  # fmt: skip
_FRENCH_DATE = re.compile(
    r"""^\s*(?:[a-zéû]+\.?,?\s+)?            # optional weekday: lundi, lun., ...
        (\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})  # 1er janvier 2024
        (?:\s*(?:à|a|,|-)?\s*(\d{1,2})\s*[:h]\s*(\d{2})(?:\s*:\s*(\d{2}))?)?  # 08:30[:00] / 08h30
        \s*(Z|UTC|GMT|CES?T|[+-]\d{2}:?\d{2})?\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_NUMERIC_DATE = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$",
    re.IGNORECASE,
)
_ZONES = {"Z": 0, "UTC": 0, "GMT": 0, "CET": 60, "CEST": 120}
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


def parse_french_date(text: str) -> time.struct_time | None:
    """A French date ("20 juin 2024", "jeu. 20 juin 2024 à 08h30 +0200") as UTC, else None."""
    match = _FRENCH_DATE.match(text)
    if not match:
        return None
    day, month_name, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(month_name.lower().rstrip("."))
    if month is None:
        return None
    return _utc(int(year), month, int(day), hour, minute, second, zone)


def parse_numeric_date(text: str) -> time.struct_time | None:
    """A day-first numeric date, the European way ("20/06/2024 08:30"), as UTC, else None."""
    match = _NUMERIC_DATE.match(text)
    if not match:
        return None
    day, month, year, hour, minute, second, zone = match.groups()
    return _utc(int(year), int(month), int(day), hour, minute, second, zone)


def _utc(
    year: int,
    month: int,
    day: int,
    hour: str | None,
    minute: str | None,
    second: str | None,
    zone: str | None,
) -> time.struct_time | None:
    import calendar
    from datetime import datetime

    try:
        local = datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0))
    except ValueError:
        return None
    offset = _offset_minutes(zone)
    seconds = calendar.timegm(local.timetuple()) - offset * 60
    return time.gmtime(seconds)


def _offset_minutes(zone: str | None) -> int:
    if not zone:
        return 0
    named = _ZONES.get(zone.upper())
    if named is not None:
        return named
    digits = zone.replace(":", "")
    sign = -1 if digits[0] == "-" else 1
    return sign * (int(digits[1:3]) * 60 + int(digits[3:5]))
