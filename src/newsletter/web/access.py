"""The access log: one line per request, with the link tokens taken out.

A confirm, unsubscribe, preferences or click link holds a token that acts on a reader's
behalf: whoever reads the logs must not be able to use it. `redact_path` replaces the token
segment of those paths; `AccessLog` writes the request line (client address as decided by
`web.forwarded`, method, redacted path, status, duration). uvicorn's own access log is off
(`newsletter.runtime.process.server_settings`): it would print the raw path.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("newsletter.access")

# Routes whose next path segment is a token.
TOKEN_PREFIXES = ("/confirm/", "/unsubscribe/", "/preferences/", "/c/")
REDACTED = "[token]"


def redact_path(path: str) -> str:
    """The path with the token of a link route replaced by `[token]`. Pure."""
    for prefix in TOKEN_PREFIXES:
        if path.startswith(prefix):
            _, slash, rest = path[len(prefix) :].partition("/")
            return f"{prefix}{REDACTED}{slash}{rest}"
    return path


def _printable(text: str) -> str:
    """Control characters escaped: a path cannot start a forged log line."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


class AccessLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless the app says otherwise before failing

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            client = scope.get("client")
            log.info(
                '%s "%s %s" %d %.1fms',
                client[0] if client else "-",
                scope["method"],
                _printable(redact_path(scope["path"])),
                status,
                (time.perf_counter() - started) * 1000,
            )
