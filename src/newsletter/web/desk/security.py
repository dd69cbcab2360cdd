"""Desk sessions, CSRF tokens, the same-origin check and the login rate limit. Pure logic:
callers pass the secret, the time and the headers.

A session is a signed cookie `<payload>.<mac>`: the payload holds the editor id, a fingerprint
of the editor's password hash, the login time and a random nonce. The MAC key is derived from
the deployment's secret key, so a cookie from another deployment never verifies, and the editor
id and fingerprint are checked against this deployment's database on every request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

SESSION_COOKIE = "desk_session"
LOGIN_COOKIE = "desk_login"  # anchors the login form's CSRF token before any session exists
COOKIE_PATH = "/desk"


@dataclass(frozen=True)
class Session:
    editor_id: int
    credential_version: str
    issued_at: int
    nonce: str


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), f"newsletter-desk:{purpose}".encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    return _b64(hmac.new(_key(secret, purpose), body.encode(), hashlib.sha256).digest())


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of a value from the request (any text) with an ASCII MAC.

    compare_digest raises on str with non-ASCII characters: compare the UTF-8 bytes."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode())


def new_session(editor_id: int, credential_version: str, now: datetime) -> Session:
    return Session(editor_id, credential_version, int(now.timestamp()), secrets.token_urlsafe(16))


def seal_session(secret: str, session: Session) -> str:
    payload = [session.editor_id, session.credential_version, session.issued_at, session.nonce]
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, 'session', body)}"


def open_session(secret: str, cookie: str, now: datetime, lifetime: timedelta) -> Session | None:
    """The session in a cookie that this deployment signed and that has not expired, else None."""
    body, _, mac = cookie.partition(".")
    if not body or not mac or not _same(mac, _mac(secret, "session", body)):
        return None
    try:
        editor_id, version, issued_at, nonce = json.loads(_unb64(body))
        session = Session(int(editor_id), str(version), int(issued_at), str(nonce))
    except (ValueError, TypeError):
        return None
    age = now.timestamp() - session.issued_at
    if age < -60 or age > lifetime.total_seconds():
        return None
    return session


def csrf_token(secret: str, anchor: str) -> str:
    """The form token bound to a session nonce (or, before login, to the login cookie)."""
    return _mac(secret, "csrf", anchor)


def csrf_valid(secret: str, anchor: str | None, token: str | None) -> bool:
    if not anchor or not token:
        return False
    return _same(token, csrf_token(secret, anchor))


def origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket in a Referer
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(origin: str | None, referer: str | None, allowed: set[str]) -> bool:
    """False when the browser says the post comes from another site.

    Origin is checked when sent, else Referer; with neither (some privacy settings strip both),
    the CSRF token alone decides.
    """
    if origin is not None:
        return origin.lower() in allowed
    if referer:
        return origin_of(referer) in allowed
    return True


@dataclass
class LoginLimiter:
    """Failed logins tolerated in `window`: `attempts` per (account name, client address), and
    `client_attempts` per client address whatever the names.

    Counting a name per client means nobody elsewhere can lock an editor out by failing on
    their name; the looser per-client count stops one client from trying name after name.
    """

    attempts: int
    client_attempts: int
    window: timedelta
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked(self, name: str, client: str, now: datetime) -> bool:
        return (
            len(self._recent(_name_key(name, client), now)) >= self.attempts
            or len(self._recent(_client_key(client), now)) >= self.client_attempts
        )

    def failed(self, name: str, client: str, now: datetime) -> None:
        if len(self._failures) > 10_000:
            self._prune(now)
        for key in (_name_key(name, client), _client_key(client)):
            self._recent(key, now).append(now)

    def succeeded(self, name: str, client: str) -> None:
        # The client's own count stays: knowing one password does not buy guesses at others.
        self._failures.pop(_name_key(name, client), None)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def _prune(self, now: datetime) -> None:
        for key in list(self._failures):
            if not self._recent(key, now):
                del self._failures[key]


def _name_key(name: str, client: str) -> str:
    return f"name:{name.lower()}\nclient:{client}"


def _client_key(client: str) -> str:
    return f"client:{client}"
