"""Every bad input to the public endpoints gets a 4xx with a readable message, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from .conftest import LiveServer

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]

BAD_REQUESTS = [
    # (why, content, content type, status, words the message must contain)
    ("bad JSON", b'{"email": ', "application/json", 400, "JSON"),
    ("a JSON list", b'["a@example.org"]', "application/json", 400, "objet JSON"),
    ("missing email", b'{"name": "Ada"}', "application/json", 422, "adresse e-mail"),
    ("email not text", b'{"email": 42}', "application/json", 422, "email"),
    ("not an address", b'{"email": "ada.example.org"}', "application/json", 422, "le « @ »"),
    (
        "CRLF in email",
        json.dumps({"email": "ada@example.org\r\nBcc: victim@example.org"}).encode(),
        "application/json",
        422,
        "retour à la ligne",
    ),
    (
        "CRLF in name",
        json.dumps({"email": "ada@example.org", "name": "Ada\r\nBcc: x@example.org"}).encode(),
        "application/json",
        422,
        "une ligne",
    ),
    (
        "honeypot filled",
        b"email=bot%40example.org&website=http%3A%2F%2Fspam.example",
        "application/x-www-form-urlencoded",
        400,
        "programme",
    ),
    ("plain text", b"ada@example.org", "text/plain", 415, "application/json"),
    ("oversized", b'{"email": "' + b"a" * 9000 + b'"}', "application/json", 413, "8192"),
]


@pytest.fixture
def live(live_server: Start) -> Iterator[LiveServer]:
    yield live_server()


@pytest.mark.parametrize(
    ("why", "content", "content_type", "status", "words"),
    BAD_REQUESTS,
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_sign_up_is_refused_readably(
    live: LiveServer, why: str, content: bytes, content_type: str, status: int, words: str
) -> None:
    """Each malformed sign-up answers its 4xx with a one-line `detail`, and stores nothing."""
    headers = {"Content-Type": content_type}
    answer = live.client().post("/subscribe", content=content, headers=headers)

    assert answer.status_code == status, why
    detail = answer.json()["detail"]
    assert isinstance(detail, str) and words in detail, detail
    live.stored()
    assert live.services.store.subscribers.count() == 0


def test_oversized_chunked_body_is_refused(live: LiveServer) -> None:
    """A body without Content-Length is counted as it arrives and refused past the cap."""

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield b"x" * 1000

    answer = live.client().post(
        "/subscribe", content=chunks(), headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 413
    assert "8192" in answer.json()["detail"]


def test_browser_gets_the_form_back_with_the_error(live: LiveServer) -> None:
    """A browser posting a bad address sees the form again, its value kept, the error announced."""
    answer = live.client(headers={"Accept": "text/html"}).post(
        "/subscribe", data={"email": "not-an-address", "name": "Zoé"}
    )

    assert answer.status_code == 422
    assert 'role="alert"' in answer.text
    assert 'value="not-an-address"' in answer.text
    assert 'aria-invalid="true"' in answer.text


def test_role_and_disposable_addresses_refused_when_configured(live_server: Start) -> None:
    """With the policy on, contact@ and throw-away domains get a 422 saying why."""
    live = live_server(
        "[subscribe]\nrefuse_role_addresses = true\nrefuse_disposable = true\n"
        'disposable_domains = ["throwaway.example"]\n'
    )
    http = live.client()

    role = http.post("/subscribe", json={"email": "contact@example.org"})
    builtin = http.post("/subscribe", json={"email": "x@mail.yopmail.com"})
    configured = http.post("/subscribe", json={"email": "x@throwaway.example"})
    fine = http.post("/subscribe", json={"email": "x@example.org"})

    assert role.status_code == builtin.status_code == configured.status_code == 422
    assert "adresses partagées" in role.json()["detail"]
    assert "adresses jetables" in configured.json()["detail"]
    assert builtin.json()["detail"] == configured.json()["detail"]
    assert fine.status_code == 202


def test_rate_limits_per_ip_and_per_address(live_server: Start) -> None:
    """Past the burst, a client IP or an address gets 429 with Retry-After; others go on."""
    live = live_server(
        "[subscribe]\nip_per_minute = 1\nip_burst = 3\naddress_per_hour = 1\naddress_burst = 2\n"
        '[web]\nforwarded_allow_ips = ["127.0.0.1"]\n'
    )
    http = live.client()

    def post(email: str, ip: str) -> int:
        # The test client is a trusted proxy here: X-Forwarded-For stands for distinct clients.
        answer = http.post("/subscribe", json={"email": email}, headers={"X-Forwarded-For": ip})
        if answer.status_code == 429:
            assert int(answer.headers["Retry-After"]) >= 1
            assert "réessayez" in answer.json()["detail"]
        return answer.status_code

    by_ip = [post(f"u{n}@example.org", "198.51.100.1") for n in range(4)]
    by_address = [post("same@example.org", f"203.0.113.{n}") for n in range(3)]

    assert by_ip == [202, 202, 202, 429]
    assert by_address == [202, 202, 429]
    assert post("other@example.org", "192.0.2.9") == 202
