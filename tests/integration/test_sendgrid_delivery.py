"""The sendgrid provider against the local SendGrid-compatible server: payload, batches, faults."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from newsletter.deliver import make_provider, sender_of
from newsletter.deliver.send import RetryPolicy
from newsletter.deliver.sendgrid import SendgridProvider
from newsletter.domain.delivery import DeliveryCounts, Recipient, RenderedMessage
from newsletter.domain.errors import ConfigError, PermanentProviderError, TransientProviderError
from newsletter.domain.model import IssueState
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.conftest import shared_path
from tests.delivery_helpers import (
    SUBJECT,
    add_subscribers,
    bulk_subscribers,
    fake_render,
    make_issue,
    with_provider,
)
from tests.mail_checks import (
    ATTACK_NAMES,
    PRODUCTION_BASE_URL,
    UNSUBSCRIBE_MAILTO,
    assert_safe_display_name,
    production_like,
)
from tests.sendgrid_server import API_KEY, Fault, SendgridServer, extra_rule_errors

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[SendgridServer]:
    running = SendgridServer(shared_path("sendgrid", "tsg_mail_v3.json")).start()
    yield running
    running.stop()


@pytest.fixture
def use_sendgrid(
    services: Services, make_config: Callable[..., Any], server: SendgridServer
) -> Callable[..., SendgridProvider]:
    """Point the services at the local server through make_provider, as the CLI does."""

    def use(batch_size: int = 1000, timeout: float = 5.0) -> SendgridProvider:
        config = make_config(environ={"SENDGRID_API_KEY": API_KEY})
        config = with_provider(
            config, "sendgrid", host=server.url, batch_size=batch_size, timeout_seconds=timeout
        )
        provider = make_provider(config)
        assert isinstance(provider, SendgridProvider)
        services._provider = provider
        return provider

    return use


def _send(services: Services, issue_id: int, **options: Any) -> DeliveryCounts:
    options.setdefault("sleep", lambda _s: None)
    return send_issue(services, issue_id, render=fake_render, **options)


def test_payload_shape(
    services: Services, server: SendgridServer, use_sendgrid: Callable[..., SendgridProvider]
) -> None:
    """One shared body, one personalization per recipient with its headers, args, substitutions."""
    use_sendgrid(batch_size=2)
    issue_id = make_issue(services)
    add_subscribers(services, 5, names=["Zoé & Co", None, "Amélie", "Jean; Paul", "Léa"])
    counts = _send(services, issue_id)
    assert (counts.state, counts.sent) == (IssueState.SENT, 5)
    assert server.invalid == []
    assert [len(r.addresses) for r in server.accepted] == [2, 2, 1]
    body = server.accepted[0].body
    assert body is not None
    frozen = services.store.issues.frozen_render(issue_id)
    assert frozen is not None
    spelled = frozen.placeholders  # the placeholders of the render that was sent
    assert body["from"] == {"email": "newsletter@example.org", "name": "MaddyNews"}
    assert body["subject"] == SUBJECT.format(name=spelled.name)
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert spelled.name_html in body["content"][1]["value"]
    assert spelled.name in body["content"][0]["value"]
    assert body["categories"] == ["newsletter", f"issue-{issue_id}"]
    assert body["headers"] == {
        "List-Id": "MaddyNews <maddynews.example.org>",
        "Feedback-ID": f"issue-{issue_id}:maddynews:newsletter:example-org",
        "X-Newsletter-Issue": str(issue_id),
    }
    assert "custom_args" not in body
    first, second = body["personalizations"]
    assert first["to"] == [{"email": "u0@example.org", "name": "Zoé & Co"}]
    assert second["to"] == [{"email": "u1@example.org"}]
    url = first["substitutions"][spelled.unsubscribe_url]
    assert url.startswith("https://news.example.org/unsubscribe/")
    assert first["substitutions"][spelled.name] == "Zoé & Co"
    assert first["substitutions"][spelled.name_html] == "Zoé &amp; Co"
    assert first["headers"] == {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert first["custom_args"]["issue_id"] == str(issue_id)
    ids = [
        p["custom_args"]["delivery_id"] for r in server.accepted for p in r.body["personalizations"]
    ]  # type: ignore[index]
    assert sorted(ids, key=int) == [str(i) for i in range(1, 6)]
    later = server.accepted[1].body
    assert later is not None
    semicolon = later["personalizations"][1]["to"][0]
    assert semicolon == {"email": "u3@example.org", "name": "Jean Paul"}


def test_server_enforces_schema_and_extra_rules(server: SendgridServer) -> None:
    """The test server refuses what SendGrid refuses: schema errors, duplicates, over 1000."""
    person = {"to": [{"email": "a@example.org"}]}
    good = {
        "from": {"email": "n@example.org"},
        "subject": "s",
        "content": [{"type": "text/plain", "value": "x"}],
        "personalizations": [person],
    }
    assert server.check(good) == []
    assert server.check({**good, "custom_args": {"a": "b"}}) != []
    assert server.check({k: v for k, v in good.items() if k != "from"}) != []
    assert server.check({**good, "personalizations": [{"to": [{"email": 3}]}]}) != []
    assert extra_rule_errors({**good, "personalizations": [person, person]}) != []
    many = [{"to": [{"email": f"u{i}@example.org"}]} for i in range(1001)]
    assert server.check({**good, "personalizations": many}) != []


def test_batches_of_a_thousand(
    services: Services, server: SendgridServer, use_sendgrid: Callable[..., SendgridProvider]
) -> None:
    """2,500 subscribers go in three requests of 1000, 1000 and 500, each address once."""
    provider = use_sendgrid()
    issue_id = make_issue(services)
    bulk_subscribers(services, 2500)
    counts = _send(services, issue_id)
    assert (counts.sent, counts.state) == (2500, IssueState.SENT)
    assert [len(r.addresses) for r in server.accepted] == [1000, 1000, 500]
    assert provider.requests_made == 3
    received = server.received()
    assert len(received) == len(set(received)) == 2500
    assert server.invalid == []


def test_repeated_address_never_shares_a_request(server: SendgridServer) -> None:
    """Two recipients with the same address (any case) go in two requests."""
    provider = SendgridProvider(
        sender=sender_from_defaults(), api_key=API_KEY, host=server.url, timeout=5
    )
    message = RenderedMessage("s", "", "<p>x</p>", "t", issue_id=1)
    recipients = [
        Recipient(1, 1, "a@example.org", None, "https://x/u/1"),
        Recipient(2, 2, "b@example.org", None, "https://x/u/2"),
        Recipient(3, 3, "A@example.org", None, "https://x/u/3"),
    ]
    result = provider.send_batch(message, recipients)
    assert result.failed == {} and result.deferred == ()
    assert [r.addresses for r in server.accepted] == [
        ("a@example.org", "b@example.org"),
        ("a@example.org",),
    ]


def sender_from_defaults() -> Any:
    from newsletter.deliver.base import Sender

    return Sender(email="newsletter@example.org", name="MaddyNews", base_url="https://x")


@pytest.mark.parametrize(
    "faults",
    [
        [Fault("429", 3)],
        [Fault("500"), Fault("503")],
        [Fault("slow", 0.2)],
    ],
    ids=["429", "500-503", "slow"],
)
def test_transient_faults_are_retried(
    services: Services,
    server: SendgridServer,
    use_sendgrid: Callable[..., SendgridProvider],
    faults: list[Fault],
) -> None:
    """429 (waiting Retry-After), 500, 503 are retried; a slow answer just arrives late."""
    use_sendgrid(batch_size=3)
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    server.add_faults(*faults)
    waits: list[float] = []
    counts = _send(services, issue_id, sleep=waits.append)
    assert (counts.sent, counts.uncertain, counts.state) == (5, 0, IssueState.SENT)
    received = server.received()
    assert sorted(received) == sorted(f"u{i}@example.org" for i in range(5))
    if faults[0].kind == "429":
        assert sum(waits) >= 3
    if faults[0].kind == "500":
        assert len(waits) >= 2 and server.requests == 4


@pytest.mark.parametrize("fault", [Fault("slow", 1.5), Fault("drop")], ids=["timeout", "drop"])
def test_lost_answer_makes_the_batch_uncertain(
    services: Services,
    server: SendgridServer,
    use_sendgrid: Callable[..., SendgridProvider],
    fault: Fault,
) -> None:
    """A timeout or a dropped connection after the request went: uncertain, not resent."""
    use_sendgrid(batch_size=3, timeout=0.5)
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    server.add_faults(fault)
    counts = _send(services, issue_id)
    assert (counts.sent, counts.uncertain, counts.state) == (2, 3, IssueState.SENT)
    received = server.received()
    assert len(received) == len(set(received)) == 5  # the server had taken the first batch
    counts = _send(services, issue_id, resend_uncertain=True)
    assert (counts.sent, counts.uncertain) == (5, 0)
    assert len(server.accepted) == 3


def test_bad_addresses_fail_alone(
    services: Services, server: SendgridServer, use_sendgrid: Callable[..., SendgridProvider]
) -> None:
    """A 400 naming two addresses fails those two; the rest of the batch is posted again."""
    use_sendgrid(batch_size=10)
    issue_id = make_issue(services)
    add_subscribers(services, 6)
    server.bad_addresses = {"u1@example.org", "u4@example.org"}
    counts = _send(services, issue_id)
    assert (counts.sent, counts.failed, counts.state) == (4, 2, IssueState.SENT)
    assert sorted(server.received()) == [f"u{i}@example.org" for i in (0, 2, 3, 5)]
    assert server.requests == 2


def test_bad_api_key_stops_the_send(
    services: Services, server: SendgridServer, use_sendgrid: Callable[..., SendgridProvider]
) -> None:
    """401 stops everything with a message naming SENDGRID_API_KEY; nothing is lost."""
    use_sendgrid(batch_size=3)
    issue_id = make_issue(services)
    add_subscribers(services, 5)
    server.add_faults(Fault("401"))
    with pytest.raises(PermanentProviderError, match="check SENDGRID_API_KEY") as refused:
        _send(services, issue_id)
    assert (refused.value.provider, refused.value.status) == ("sendgrid", 401)
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.sending, counts.sent) == (5, 0, 0)
    assert _send(services, issue_id).sent == 5


def test_unreachable_server_is_retried_then_resumable(
    services: Services, server: SendgridServer, use_sendgrid: Callable[..., SendgridProvider]
) -> None:
    """No server listening: retried within the bound, then the run stops; a rerun resumes."""
    provider = use_sendgrid(batch_size=3)
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    provider.host = "http://127.0.0.1:1"
    with pytest.raises(TransientProviderError, match="again to resume"):
        _send(services, issue_id, retry=RetryPolicy(attempts=2))
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.uncertain) == (4, 0)
    provider.host, provider._client = server.url, None
    assert _send(services, issue_id).sent == 4


def test_missing_api_key_is_a_config_error(make_config: Callable[..., Any]) -> None:
    """provider = sendgrid without SENDGRID_API_KEY: a config error naming the variable."""
    config = with_provider(make_config(), "sendgrid")
    with pytest.raises(ConfigError, match="SENDGRID_API_KEY"):
        make_provider(config)


def test_request_headers_are_plain_and_names_safe(
    services: Services, server: SendgridServer
) -> None:
    """The request body: each personalization's List-Unsubscribe (production-length link and
    token, plus the mailto) one plain ASCII line, List-Id and Feedback-ID in the shared
    headers, and the attackers' names reduced to safe display text everywhere they go."""
    services.config = production_like(services.config)
    services._provider = SendgridProvider(
        sender=sender_of(services.config), api_key=API_KEY, host=server.url, timeout=5
    )
    issue_id = make_issue(services)
    add_subscribers(services, len(ATTACK_NAMES), names=list(ATTACK_NAMES.values()))

    counts = _send(services, issue_id)

    assert (counts.sent, server.invalid) == (len(ATTACK_NAMES), [])
    frozen = services.store.issues.frozen_render(issue_id)
    assert frozen is not None
    spelled = frozen.placeholders
    (request,) = server.accepted
    body = request.body
    assert body is not None
    assert body["headers"]["List-Id"] == "MaddyNews <maddynews.example.org>"
    assert body["headers"]["Feedback-ID"] == f"issue-{issue_id}:maddynews:newsletter:example-org"
    for personalization in body["personalizations"]:
        (to,) = personalization["to"]
        assert_safe_display_name(to["name"])
        assert_safe_display_name(personalization["substitutions"][spelled.name])
        headers = personalization["headers"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        value = headers["List-Unsubscribe"]
        assert value.isascii() and value.isprintable() and "=?" not in value
        assert len("List-Unsubscribe: " + value) <= 998
        url = personalization["substitutions"][spelled.unsubscribe_url]
        token = url.rpartition("/")[2]
        assert url == f"{PRODUCTION_BASE_URL}/unsubscribe/{token}"
        assert value == f"<{url}>, <mailto:{UNSUBSCRIBE_MAILTO}?subject=unsubscribe-{token}>"


def test_a_copy_whose_headers_cannot_be_written_fails_alone(server: SendgridServer) -> None:
    """A recipient whose List-Unsubscribe would carry a line break is failed and never
    posted; the others of the batch go."""
    provider = SendgridProvider(
        sender=sender_from_defaults(), api_key=API_KEY, host=server.url, timeout=5
    )
    message = RenderedMessage("s", "", "<p>x</p>", "t", issue_id=1)
    good = Recipient(1, 1, "a@example.org", None, "https://x.org/u/1")
    broken = Recipient(2, 2, "b@example.org", None, "https://x.org/u/2\r\nBcc: evil@x.org")

    result = provider.send_batch(message, [good, broken])

    assert set(result.failed) == {2} and "List-Unsubscribe" in result.failed[2]
    assert [r.addresses for r in server.accepted] == [("a@example.org",)]
    assert "evil" not in json.dumps(server.accepted[0].body)
