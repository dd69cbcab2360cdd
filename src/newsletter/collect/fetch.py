"""Fetching a feed (I/O): over HTTP(S) or from disk, within limits a hostile server cannot stretch.

One deadline covers connect, redirects and the whole body; a byte cap applies while streaming
and again after decompression (newsletter.collect.decompress); redirects are capped in number
and go only to http(s). The validators of the previous fetch (ETag, Last-Modified) make the
request conditional, so an unchanged feed costs a 304. Every connection, redirects included,
goes through the address guard (newsletter.collect.address_guard): public addresses only,
except the origin of the feed the operator listed; only that listed location may be a local
file. A failure raises FetchError carrying the URL (and the HTTP status when there was one).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.request import url2pathname

import httpx

from newsletter import __version__
from newsletter.collect.address_guard import LISTED_ORIGIN, GuardedTransport, Origin, origin_of
from newsletter.collect.decompress import decoder_for
from newsletter.domain.errors import FeedGone, FetchError
from newsletter.domain.links import SAFE_SCHEMES

USER_AGENT = f"newsletter/{__version__} (feed collector; +https://github.com/newsletter/newsletter)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"
CHUNK_SIZE = 64 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


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
    if scheme not in SAFE_SCHEMES and url != listed_url:
        raise FetchError(f"refused: {url[:200]} is not an http(s) URL", url=url)
    listed_origin = origin_of(listed_url) if listed_url else None
    try:
        async with asyncio.timeout(limits.timeout):
            if scheme in SAFE_SCHEMES:
                return await _fetch_http(
                    client, url, limits, validators or Validators(), listed_origin
                )
            return await asyncio.to_thread(read_local, url, limits.max_bytes)
    except TimeoutError:
        raise FetchError(f"timed out after {limits.timeout:g}s", url=url) from None
    except FetchError as exc:
        # The readers below raise where they fail; the address asked for is known here.
        exc.url = exc.url or url
        raise


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
        except FetchError as exc:  # the status, a redirect or the body refused: at `current`
            exc.url = exc.url or current
            raise
        except httpx.TimeoutException:
            raise FetchError(f"timed out after {limits.timeout:g}s", url=current) from None
        except httpx.HTTPError as exc:
            raise FetchError(_describe_http_error(exc), url=current) from None
        except httpx.InvalidURL as exc:  # 0177.0.0.1, [::1: what the HTTP client cannot read
            raise FetchError(f"invalid URL: {exc}"[:300], url=current) from None
    raise FetchError(f"too many redirects (more than {limits.max_redirects})", url=url)


def _redirect_target(response: httpx.Response, current: str) -> str:
    location = response.headers.get("location", "").strip()
    if not location:
        raise FetchError(
            f"HTTP {response.status_code} redirect without a Location header",
            status=response.status_code,
        )
    target: str = urljoin(current, str(location))
    if urlsplit(target).scheme.lower() not in SAFE_SCHEMES:
        # A web server must never send us to a file: URL or any other scheme.
        raise FetchError(f"redirect to a non-http URL refused: {target[:200]}")
    return target


def _check_status(response: httpx.Response) -> None:
    code = response.status_code
    if code == 410:
        raise FeedGone(
            "HTTP 410 Gone: the feed was removed; paused until its URL changes", status=code
        )
    if code != 200:
        reason = response.reason_phrase or ""
        raise FetchError(f"HTTP {code} {reason}".strip(), status=code)


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
    decoder = decoder_for(response.headers.get("content-encoding", ""), max_bytes)
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
