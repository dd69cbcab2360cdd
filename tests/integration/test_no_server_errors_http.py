"""Hostile input anywhere on the HTTP surface gets the 4xx (or the login redirect) the contract
names, with a readable message, never a 5xx: each case is sent as raw as HTTP allows to the
real app under uvicorn on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from newsletter.curate.editors import add_editor
from tests.desk_support import EDITOR, PASSWORD, newsroom

from .conftest import LiveServer
from .desk_http import cookie_set, csrf_in, session
from .test_webhook_http import SendGridSigner

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]


@dataclass(frozen=True)
class Case:
    why: str
    method: str
    path: str
    status: int
    words: str  # in the answer's message
    content: bytes = b""
    headers: dict[str, bytes] = field(default_factory=dict)
    signed: bool = False  # webhook body signed with the configured key
    editor: bool = False  # sent with a logged-in editor's session cookie
    csrf: bool = False  # the form gets a valid CSRF token (the session's, or the login form's)


def _json(text: str) -> bytes:
    return text.encode()


JSON = {"Content-Type": b"application/json"}
FORM = {"Content-Type": b"application/x-www-form-urlencoded"}
NESTED = "[" * 3000 + "]" * 3000  # within the sign-up's 8 KiB, deeper than any parser stack
SURROGATE = "\\ud800"  # JSON escape of a lone surrogate: not a character

CASES = [
    # -- link tokens ---------------------------------------------------------------------------
    Case("non-ASCII confirm token, GET", "GET", "/confirm/%C3%A9t%C3%A9.%C3%A9", 400, "invalide"),
    Case("non-ASCII confirm token, POST", "POST", "/confirm/%C3%A9t%C3%A9.%C3%A9", 400, "invalide"),
    Case("non-ASCII confirm signature", "POST", "/confirm/WyJj.%C3%A9%C3%A9", 400, "invalide"),
    Case("non-ASCII unsubscribe token, GET", "GET", "/unsubscribe/%C3%A9.%C3%A9", 400, "invalide"),
    Case(
        "non-ASCII unsubscribe token, POST", "POST", "/unsubscribe/%C3%A9.%C3%A9", 400, "invalide"
    ),
    # -- sign-up bodies ------------------------------------------------------------------------
    Case(
        "deeply nested JSON sign-up",
        "POST",
        "/subscribe",
        400,
        "JSON",
        _json('{"email": ' + NESTED + "}"),
        JSON,
    ),
    Case(
        "lone surrogate in the name",
        "POST",
        "/subscribe",
        400,
        "surrogate",
        _json('{"email": "ada@example.org", "name": "Ada' + SURROGATE + '"}'),
        JSON,
    ),
    Case(
        "lone surrogate in the address",
        "POST",
        "/subscribe",
        400,
        "surrogate",
        _json('{"email": "ada' + SURROGATE + '@example.org"}'),
        JSON,
    ),
    Case(
        "lone surrogate as a key",
        "POST",
        "/subscribe",
        400,
        "surrogate",
        _json('{"email": "ada@example.org", "' + SURROGATE + '": 1}'),
        JSON,
    ),
    Case(
        "surrogate bytes in a form name (replaced as invalid UTF-8)",
        "POST",
        "/subscribe",
        202,
        "",
        b"email=ada%40example.org&name=Ada%ED%A0%80",
        FORM,
    ),
    Case("infinite address", "POST", "/subscribe", 400, "too large", b'{"email": 1e999}', JSON),
    Case("NaN as the address", "POST", "/subscribe", 400, "NaN", b'{"email": NaN}', JSON),
    Case(
        "a 5000-digit address",
        "POST",
        "/subscribe",
        400,
        "JSON",
        b'{"email": ' + b"9" * 5000 + b"}",
        JSON,
    ),
    Case(
        "NUL in the name (no text column stores it)",
        "POST",
        "/subscribe",
        400,
        "NUL",
        _json('{"email": "ada@example.org", "name": "Ada\\u0000"}'),
        JSON,
    ),
    Case(
        "NUL in a form's consent version",
        "POST",
        "/subscribe",
        422,
        "consent_version",
        b"email=ada%40example.org&consent_version=v1%00",
        FORM,
    ),
    # -- the webhook (signed with the configured key unless said otherwise) ---------------------
    Case(
        "NUL in an event",
        "POST",
        "/webhooks/sendgrid",
        400,
        "NUL",
        _json('[{"event": "bounce", "sg_event_id": "x\\u0000", "reason": "a\\u0000b"}]'),
        signed=True,
    ),
    Case(
        "deeply nested webhook body",
        "POST",
        "/webhooks/sendgrid",
        400,
        "JSON",
        ("[" * 200_000 + "]" * 200_000).encode(),
        signed=True,
    ),
    Case(
        "deeply nested event field",
        "POST",
        "/webhooks/sendgrid",
        400,
        "nested",
        _json('[{"event": "open", "reason": ' + "[" * 900 + "]" * 900 + "}]"),
        signed=True,
    ),
    Case(
        "lone surrogate in an event",
        "POST",
        "/webhooks/sendgrid",
        400,
        "surrogate",
        _json('[{"event": "bounce", "email": "a@example.org", "reason": "x' + SURROGATE + '"}]'),
        signed=True,
    ),
    Case(
        "lone surrogate as the event kind",
        "POST",
        "/webhooks/sendgrid",
        400,
        "surrogate",
        _json('[{"event": "' + SURROGATE + '"}]'),
        signed=True,
    ),
    Case(
        "infinite event timestamp",
        "POST",
        "/webhooks/sendgrid",
        400,
        "too large",
        b'[{"event": "open", "sg_event_id": "e1", "timestamp": 1e999}]',
        signed=True,
    ),
    Case(
        "event timestamp far beyond any date",
        "POST",
        "/webhooks/sendgrid",
        400,
        "timestamp",
        b'[{"event": "open", "sg_event_id": "e1", "timestamp": ' + b"9" * 16 + b"}]",
        signed=True,
    ),
    Case(
        "event timestamp of 400 digits",
        "POST",
        "/webhooks/sendgrid",
        400,
        "digits",
        b'[{"event": "open", "sg_event_id": "e1", "timestamp": ' + b"9" * 400 + b"}]",
        signed=True,
    ),
    Case(
        "400-digit timestamp header",
        "POST",
        "/webhooks/sendgrid",
        403,
        "Unix time",
        b"[]",
        {"X-Twilio-Email-Event-Webhook-Timestamp": b"9" * 400, **JSON},
        signed=True,
    ),
    Case(
        "5000-digit timestamp header",
        "POST",
        "/webhooks/sendgrid",
        403,
        "Unix time",
        b"[]",
        {"X-Twilio-Email-Event-Webhook-Timestamp": b"9" * 5000, **JSON},
        signed=True,
    ),
    Case(
        "non-ASCII signature header",
        "POST",
        "/webhooks/sendgrid",
        403,
        "signature",
        b"[]",
        {"X-Twilio-Email-Event-Webhook-Signature": "é".encode("latin-1"), **JSON},
        signed=True,
    ),
    # -- the desk ------------------------------------------------------------------------------
    Case(
        "non-ASCII session cookie, page",
        "GET",
        "/desk",
        303,
        "",
        headers={"Cookie": "desk_session=\u00e9t\u00e9.\u00e9".encode("latin-1")},
    ),
    Case(
        "non-ASCII session cookie, form",
        "POST",
        "/desk/logout",
        401,
        "login",
        b"csrf=x",
        {"Cookie": "desk_session=\u00e9.\u00e9".encode("latin-1"), **FORM},
    ),
    Case(
        "non-ASCII CSRF field on the login form",
        "POST",
        "/desk/login",
        403,
        "reload",
        b"csrf=%C3%A9t%C3%A9&name=camille&password=x",
        {"Cookie": b"desk_login=abc", **FORM},
    ),
    Case(
        "non-ASCII login cookie",
        "POST",
        "/desk/login",
        403,
        "reload",
        b"csrf=abc&name=camille&password=x",
        {"Cookie": "desk_login=\u00e9".encode("latin-1"), **FORM},
    ),
    Case(
        "non-ASCII CSRF field in a session",
        "POST",
        "/desk/issues/draft",
        403,
        "reload",
        b"csrf=%C3%A9t%C3%A9",
        FORM,
        editor=True,
    ),
    Case(
        "unparsable Referer",
        "POST",
        "/desk/login",
        403,
        "reload",
        b"csrf=abc&name=camille&password=x",
        {"Referer": b"http://[::1", "Cookie": b"desk_login=abc", **FORM},
    ),
    Case("unparsable Host", "GET", "/unsubscribe/a.b", 400, "Host", headers={"Host": b"[::1"}),
    Case(
        "Host with a path",
        "POST",
        "/desk/login",
        400,
        "Host",
        b"csrf=x",
        {"Host": b"evil.example/x", **FORM},
    ),
    Case(
        "NUL in the login name",
        "POST",
        "/desk/login",
        401,
        "incorrect",
        b"name=camille%00&password=x",
        FORM,
        csrf=True,
    ),
    Case("NUL in the inbox search", "GET", "/desk/inbox?q=a%00b", 422, "q", editor=True),
    Case("NUL in the inbox feed", "GET", "/desk/inbox?feed=a%00b", 422, "feed", editor=True),
    Case("NUL in the subscriber search", "GET", "/desk/subscribers?q=%00", 422, "q", editor=True),
    Case(
        "NUL in an issue's subject",
        "POST",
        "/desk/issues/1",
        303,
        "",
        b"subject=Le%00sujet&intro=a%00b",
        FORM,
        editor=True,
        csrf=True,
    ),
    Case(
        "an article id beyond any row",
        "POST",
        "/desk/issues/1/add",
        400,
        "article_id",
        b"article_id=" + b"9" * 30,
        FORM,
        editor=True,
        csrf=True,
    ),
    Case("inbox since year 9999", "GET", "/desk/inbox?until=9999-12-31", 422, "date", editor=True),
    Case("inbox since year 1", "GET", "/desk/inbox?since=0001-01-01", 422, "date", editor=True),
    Case("inbox until garbage", "GET", "/desk/inbox?until=2026-13-45", 422, "date", editor=True),
    Case(
        "inbox page 10**30", "GET", "/desk/inbox?page=" + "1" + "0" * 30, 422, "page", editor=True
    ),
    Case("inbox page 0", "GET", "/desk/inbox?page=0", 422, "page", editor=True),
    Case(
        "subscribers page 10**30",
        "GET",
        "/desk/subscribers?page=" + "1" + "0" * 30,
        422,
        "page",
        editor=True,
    ),
    Case(
        "schedule in year 1",
        "POST",
        "/desk/issues/1/schedule",
        303,
        "",
        b"date=0001-01-01&time=00:00",
        FORM,
        editor=True,
        csrf=True,
    ),
    Case(
        "schedule in year 9999",
        "POST",
        "/desk/issues/1/schedule",
        303,
        "",
        b"date=9999-12-31&time=23:59",
        FORM,
        editor=True,
        csrf=True,
    ),
]


@pytest.fixture
def server(live_server: Start) -> Iterator[tuple[LiveServer, SendGridSigner]]:
    signer = SendGridSigner()
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    add_editor(live.services.store.editors, live.services.clock(), EDITOR, PASSWORD)
    yield live, signer


@pytest.mark.parametrize("case", CASES, ids=[case.why for case in CASES])
def test_hostile_input_gets_a_readable_4xx(
    server: tuple[LiveServer, SendGridSigner], case: Case
) -> None:
    """The answer has the expected status and says what is wrong; no 5xx."""
    live, signer = server
    headers: dict[str, bytes] = {}
    content = case.content
    if case.signed:
        timestamp = int(live.clock.now.timestamp())
        headers.update({k: v.encode() for k, v in signer.headers(content, timestamp).items()})
    cookies: list[bytes] = []
    if case.editor:
        newsroom(live.services)
        cookie, csrf = session(live.client(), EDITOR, PASSWORD)
        cookies.append(f"desk_session={cookie}".encode())
        if case.csrf:
            content += f"&csrf={csrf}".encode()
    elif case.csrf:  # the login form's own token, anchored by its cookie
        form = live.client().get("/desk/login")
        cookies.append(f"desk_login={cookie_set(form, 'desk_login')}".encode())
        content += f"&csrf={csrf_in(form.text)}".encode()
    headers.update(case.headers)
    if cookies:
        headers["Cookie"] = b"; ".join(
            [*cookies, *([headers["Cookie"]] if "Cookie" in headers else [])]
        )

    with httpx.Client(base_url=live.url, timeout=20) as http:
        answer = http.request(case.method, case.path, content=content, headers=headers)

    assert answer.status_code == case.status, (case.why, answer.status_code, answer.text[:300])
    if case.words:
        message = _message(answer)
        assert case.words.lower() in message.lower(), (case.why, message)


def _message(answer: httpx.Response) -> str:
    if answer.headers.get("content-type", "").startswith("application/json"):
        detail = answer.json()["detail"]
        return detail if isinstance(detail, str) else json.dumps(detail, ensure_ascii=False)
    return answer.text
