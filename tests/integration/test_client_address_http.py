"""Who the client is, over real HTTP from distinct loopback addresses (127.0.0.1, 127.0.0.2):
X-Forwarded-For is believed only from a listed proxy, for the sign-up rate limit, the consent
record and the access log; the desk's login lockout is per name and client, so failures from
one address never lock the editor out elsewhere; link tokens never reach the logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import httpx
import pytest

from newsletter.curate.editors import add_editor
from newsletter.domain.readers import SubscriberStatus
from newsletter.runtime import curation
from tests.desk_support import EDITOR, PASSWORD

from .conftest import LiveServer
from .desk_http import log_in

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]
ONE_PER_CLIENT = "[subscribe]\nip_per_minute = 0.01\nip_burst = 1\naddress_per_hour = 0\n"


def _from(live: LiveServer, address: str) -> httpx.Client:
    """A client whose connections come from `address` (any 127.x.y.z reaches loopback)."""
    return live.client(transport=httpx.HTTPTransport(local_address=address))


def _consent_ip(live: LiveServer, email: str) -> object:
    live.stored()
    subscriber = live.services.store.subscribers.by_email(email)
    assert subscriber is not None
    consent = live.services.store.subscribers.consent(subscriber.id)
    assert consent is not None
    return consent["consent_ip"]


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.0.0.2"])
def test_spoofed_forwarded_for_from_an_unlisted_peer_changes_nothing(
    live_server: Start, peer: str
) -> None:
    """With no proxy listed (the default), a client writing X-Forwarded-For is still recorded
    and rate-limited under its own address, 127.0.0.1 included (uvicorn's own default would
    believe it)."""
    live = live_server(ONE_PER_CLIENT)
    http = _from(live, peer)

    first = http.post(
        "/subscribe", json={"email": "a@example.org"}, headers={"X-Forwarded-For": "203.0.113.7"}
    )
    second = http.post(
        "/subscribe", json={"email": "b@example.org"}, headers={"X-Forwarded-For": "203.0.113.8"}
    )

    assert first.status_code == 202
    assert second.status_code == 429  # a new forged address does not buy a new allowance
    assert _consent_ip(live, "a@example.org") == peer


def test_a_listed_proxy_is_believed_and_only_its_own_hop(live_server: Start) -> None:
    """From a listed proxy the client is the hop it appended (rightmost), not what the client
    itself wrote further left; each such client has its own allowance. A peer outside the
    list (127.0.0.2) is not believed."""
    live = live_server(ONE_PER_CLIENT + '[web]\nforwarded_allow_ips = ["127.0.0.1/32"]\n')
    proxy = _from(live, "127.0.0.1")
    stranger = _from(live, "127.0.0.2")

    def post(http: httpx.Client, email: str, forwarded_for: str) -> int:
        answer = http.post(
            "/subscribe", json={"email": email}, headers={"X-Forwarded-For": forwarded_for}
        )
        return answer.status_code

    assert post(proxy, "c@example.org", "198.51.100.1, 203.0.113.9") == 202
    assert post(proxy, "d@example.org", "203.0.113.9") == 429  # same real client
    assert post(proxy, "e@example.org", "203.0.113.10") == 202  # another real client
    assert post(stranger, "f@example.org", "203.0.113.11") == 202
    assert post(stranger, "g@example.org", "203.0.113.12") == 429
    assert _consent_ip(live, "c@example.org") == "203.0.113.9"
    assert _consent_ip(live, "e@example.org") == "203.0.113.10"
    assert _consent_ip(live, "f@example.org") == "127.0.0.2"


def test_a_chain_of_listed_proxies_is_walked_to_the_client(live_server: Start) -> None:
    """Behind two listed proxies (a network and an address), the client is the first hop
    from the right that is not a listed proxy."""
    live = live_server('[web]\nforwarded_allow_ips = ["127.0.0.0/8", "10.0.0.5"]\n')
    http = _from(live, "127.0.0.3")

    answer = http.post(
        "/subscribe",
        json={"email": "h@example.org"},
        headers={"X-Forwarded-For": "192.0.2.1, 198.51.100.20, 10.0.0.5"},
    )

    assert answer.status_code == 202
    assert _consent_ip(live, "h@example.org") == "198.51.100.20"


def test_failed_logins_from_one_client_do_not_lock_the_editor_out(live_server: Start) -> None:
    """An attacker at 127.0.0.2 failing on the editor's name is locked out (429, even with
    the right password); the editor at 127.0.0.1 logs in with the right password."""
    live = live_server()
    add_editor(live.services.store.editors, live.services.clock(), EDITOR, PASSWORD)
    attacker = _from(live, "127.0.0.2")
    editor = _from(live, "127.0.0.1")
    attempts = live.services.config.settings.desk.login_attempts

    failures = [log_in(attacker, EDITOR, "not the password").status_code for _ in range(attempts)]
    locked = log_in(attacker, EDITOR, PASSWORD)
    logged_in = log_in(editor, EDITOR, PASSWORD)

    assert failures == [401] * attempts
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert logged_in.status_code == 303
    assert "desk_session=" in logged_in.headers["set-cookie"]


def test_one_client_cannot_try_name_after_name(live_server: Start) -> None:
    """Past `login_attempts_per_client` failures over any names, the client is refused even
    for a name it has not tried; another client is not."""
    live = live_server("[desk]\nlogin_attempts = 2\nlogin_attempts_per_client = 4\n")
    add_editor(live.services.store.editors, live.services.clock(), EDITOR, PASSWORD)
    attacker = _from(live, "127.0.0.2")

    tried = [log_in(attacker, f"editor{n}", "guess guess guess").status_code for n in range(4)]
    fifth_name = log_in(attacker, EDITOR, PASSWORD)

    assert tried == [401] * 4
    assert fifth_name.status_code == 429
    assert log_in(_from(live, "127.0.0.1"), EDITOR, PASSWORD).status_code == 303


def test_link_tokens_never_reach_the_logs(
    live_server: Start, caplog: pytest.LogCaptureFixture
) -> None:
    """Requests to confirm, unsubscribe, preferences and click links are logged (client, method,
    path, status) with the token replaced by [token]; no record of any logger holds it."""
    live = live_server('[web]\nforwarded_allow_ips = ["127.0.0.1"]\n', log_level="info")
    subscriber, _ = live.services.store.subscribers.add(
        "log@example.org", None, SubscriberStatus.PENDING, live.clock.now
    )
    confirm = live.services.signer.sign("confirm", subscriber.id, live.clock.now)
    unsubscribe = curation.unsubscribe_urls(live.services)(subscriber.id).rsplit("/", 1)[1]
    http = live.client(headers={"X-Forwarded-For": "198.51.100.77"})

    with caplog.at_level(logging.DEBUG):
        answers = [
            http.get(f"/confirm/{confirm}"),
            http.post(f"/confirm/{confirm}"),
            http.get(f"/unsubscribe/{unsubscribe}"),
            http.post(f"/unsubscribe/{unsubscribe}", content=b"List-Unsubscribe=One-Click"),
            http.get(f"/preferences/{unsubscribe}"),
            http.get(f"/c/{unsubscribe}/extra"),
        ]
        live.settle()
        # The access line is written once the answer has gone out: the client may be faster.
        deadline = time.monotonic() + 10
        while len(_access(caplog)[1]) < len(answers) and time.monotonic() < deadline:
            time.sleep(0.02)

    assert [answer.status_code for answer in answers[:4]] == [200] * 4
    lines, access = _access(caplog)
    assert len(access) == len(answers), lines
    assert access[1].startswith('198.51.100.77 "POST /confirm/[token]" 200')
    assert any('"GET /c/[token]/extra" 404' in line for line in access)
    for secret in (confirm, unsubscribe, confirm.split(".")[1], unsubscribe.split(".")[1]):
        assert not any(secret in line for line in lines), secret


def _access(caplog: pytest.LogCaptureFixture) -> tuple[list[str], list[str]]:
    """Every server-side log line, and the access lines among them that name a [token]."""
    client_side = ("httpx", "httpcore")  # the test's own HTTP client logs its URLs
    lines = [r.getMessage() for r in caplog.records if not r.name.startswith(client_side)]
    return lines, [line for line in lines if '"' in line and "[token]" in line]
