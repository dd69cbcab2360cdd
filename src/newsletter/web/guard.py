"""ASGI middleware guarding the app: a readable Host, body size caps, and security headers,
which are set here and nowhere else (a route declares the policy of a page that needs its own).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BODILESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


# host [":" port], host a name, an IPv4 address or a bracketed IPv6 address (RFC 9110 7.2).
_HOST = re.compile(r"^(?:[A-Za-z0-9._~!$&'()*+,;=%-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


class HostHeader:
    """Refuse with 400 a Host header that is not a host and port: request URLs (and the desk's
    same-origin check) are built from it, and a malformed one would fail deep inside a route."""

    def __init__(self, app: ASGIApp, message: str) -> None:
        self.app = app
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = _header(scope, b"host")
            if host and not _HOST.match(host):
                await _json(send, 400, self.message)
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuse request bodies above a per-path limit with 413, before any route reads them.

    The Content-Length header is checked first; a chunked body is counted as it arrives. The
    body read here is handed to the app unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit_for: Callable[[str], int],
        message: Callable[[str, int], str],
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.message = message

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODILESS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await _json(send, 400, self.message("bad_length", limit))
                return
            if int(declared) > limit:
                await _json(send, 413, self.message("too_large", limit))
                return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _json(send, 413, self.message("too_large", limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


@dataclass(frozen=True)
class Policy:
    """The security headers of one kind of response. A route whose page needs other headers
    than its path's default declares its policy (`declare`); `SecurityHeaders` applies it."""

    content_security: str
    referrer: str = "no-referrer"  # links carry tokens
    frame_options: str | None = "DENY"  # None: the page may be framed anywhere
    cache: str | None = None

    def headers(self) -> list[tuple[bytes, bytes]]:
        found = [
            (b"content-security-policy", self.content_security.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", self.referrer.encode()),
        ]
        if self.frame_options is not None:
            found.append((b"x-frame-options", self.frame_options.encode()))
        if self.cache is not None:
            found.append((b"cache-control", self.cache.encode()))
        return found


def _no_script(framing: str) -> str:
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "
        f"form-action 'self'; base-uri 'none'; frame-ancestors {framing}"
    )


# The public pages: a strict Content-Security-Policy (no script at all), no framing...
PUBLIC = Policy(_no_script("'none'"))
# ... but the sign-up page, which sites embed.
EMBEDDABLE = Policy(_no_script("*"), frame_options=None)
# Token links: nothing of them stays in a cache.
TOKEN_LINK = Policy(_no_script("'none'"), cache="no-store")

_STATE_KEY = "security_policy"


def declare(request: Request, policy: Policy) -> None:
    """The response to this request gets `policy` instead of its path's default."""
    request.state.security_policy = policy


def default_policy(path: str, embeddable: Callable[[str], bool]) -> Policy:
    if embeddable(path):
        return EMBEDDABLE
    if path.startswith(("/confirm/", "/unsubscribe/")):
        return TOKEN_LINK
    return PUBLIC


class SecurityHeaders:
    """The one place security headers are set: the policy the route declared, else its path's
    default. A header the response already carries is kept."""

    def __init__(self, app: ASGIApp, embeddable: Callable[[str], bool]) -> None:
        self.app = app
        self.embeddable = embeddable

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Read at response time: the route declares its policy while it runs.
                declared = scope.get("state", {}).get(_STATE_KEY)
                policy = declared or default_policy(scope["path"], self.embeddable)
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers.extend(item for item in policy.headers() if item[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
