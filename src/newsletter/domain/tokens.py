"""Signed, single-purpose tokens for links in emails (confirm, unsubscribe, article clicks).

A token is `<payload>.<signature>`, both URL-safe base64: the payload holds the purpose, the
subscriber id and the issue time; the HMAC-SHA256 signature covers the purpose too, so a
confirmation token never works as an unsubscribe token. Pure: the caller passes the time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from newsletter.domain.errors import TokenError

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
CLICK = "click"


@dataclass(frozen=True)
class TokenSigner:
    secret: bytes

    def sign(self, purpose: str, subscriber_id: int, issued_at: datetime) -> str:
        # The JSON array by hand: this runs once per recipient of every send.
        payload = f'["{purpose}",{int(subscriber_id)},{int(issued_at.timestamp())}]'.encode()
        body = _b64(payload)
        return f"{body}.{self._mac(body)}"

    def verify(
        self, token: str, purpose: str, now: datetime, max_age: timedelta | None = None
    ) -> int:
        """The subscriber id inside a valid token, else TokenError saying why."""
        return self.verify_issued(token, purpose, now, max_age)[0]

    def verify_issued(
        self, token: str, purpose: str, now: datetime, max_age: timedelta | None = None
    ) -> tuple[int, datetime]:
        """The subscriber id and the issue time (whole seconds) inside a valid token."""
        subscriber_id, issued = self._payload(token, purpose)
        if max_age is not None and now.timestamp() - issued > max_age.total_seconds():
            raise TokenError("this link has expired")
        return subscriber_id, datetime.fromtimestamp(issued, UTC)

    def claimed_id(self, token: str) -> int:
        """The id a token claims, NOT verified: for a purpose that depends on whom the token is
        about (a one-time link bound to an account's credentials), to look that up before
        `verify`. TokenError when unreadable."""
        try:
            return int(json.loads(_unb64(token.partition(".")[0]))[1])
        except (ValueError, TypeError, IndexError, KeyError):
            raise TokenError("this link is invalid or has been altered") from None

    def sign_click(self, delivery_id: int, article_id: int) -> str:
        """The token of one copy's link to one article: names the delivery and the article."""
        body = _b64(f'["{CLICK}",{int(delivery_id)},{int(article_id)}]'.encode())
        return f"{body}.{self._mac(body)}"

    def verify_click(self, token: str) -> tuple[int, int]:
        """The delivery id and article id inside a valid click token, else TokenError."""
        return self._payload(token, CLICK)

    def _payload(self, token: str, purpose: str) -> tuple[int, int]:
        """The two whole numbers a signed token for `purpose` holds, else TokenError."""
        if not token.isascii():  # base64url and a dot; compare_digest refuses non-ASCII
            raise TokenError("this link is invalid or has been altered")
        body, _, signature = token.partition(".")
        if not body or not signature or not hmac.compare_digest(signature, self._mac(body)):
            raise TokenError("this link is invalid or has been altered")
        try:
            kind, first, second = json.loads(_unb64(body))
            numbers = int(first), int(second)
        except (ValueError, TypeError):
            raise TokenError("this link is invalid or has been altered") from None
        if kind != purpose:
            raise TokenError("this link is not meant for this page")
        return numbers

    def _mac(self, body: str) -> str:
        return _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest()[:20])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
