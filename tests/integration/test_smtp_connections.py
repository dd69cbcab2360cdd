"""`[email.smtp] connections`: parallel SMTP connections to a real aiosmtpd server, each reused
across copies and batches, reopened when the server dropped it, RSET after a refused reader."""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter
from concurrent.futures import Future
from typing import Any

import pytest

from newsletter.deliver import make_provider, sender_of
from newsletter.deliver.smtp import SmtpProvider, _joined, _shares
from newsletter.domain.delivery import BatchResult, DeliveryCounts, Recipient
from newsletter.domain.errors import PermanentProviderError
from newsletter.domain.model import IssueState
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from tests.conftest import free_port
from tests.delivery_helpers import bulk_subscribers, fake_render, make_issue, with_provider
from tests.smtp_server import Recorder, smtp_controller

pytestmark = pytest.mark.integration


def _provider(services: Services, port: int, connections: int, batch_size: int) -> SmtpProvider:
    return SmtpProvider(
        sender=sender_of(services.config),
        host="127.0.0.1",
        port=port,
        timeout=10,
        batch_size=batch_size,
        connections=connections,
    )


def _send_issue(services: Services, provider: SmtpProvider, readers: int) -> DeliveryCounts:
    """An issue sent through `provider` to `readers` active readers, the provider closed."""
    services._provider = provider
    issue_id = make_issue(services)
    bulk_subscribers(services, readers)
    counts = send_issue(services, issue_id, render=fake_render)
    provider.close()
    return counts


def test_several_connections_each_carry_many_copies(services: Services) -> None:
    """240 readers in batches of 60 over 4 connections: 4 sessions opened once each, every
    one carrying many copies across the batches, every reader exactly one copy (its own),
    and the refused readers followed by RSET on their connection, which goes on."""
    handler = Recorder(refuse={"u7@example.org", "u100@example.org", "u201@example.org"})
    controller = smtp_controller(handler)
    try:
        provider = _provider(services, controller.port, connections=4, batch_size=60)
        counts = _send_issue(services, provider, readers=240)
    finally:
        controller.stop()
    assert (counts.state, counts.sent, counts.failed) == (IssueState.SENT, 237, 3)
    assert provider.connections_opened == 4
    per_session = Counter(session for session, _, _ in handler.messages)
    assert len(per_session) == 4
    assert min(per_session.values()) >= 40, per_session
    received = Counter(rcpt for _, rcpts, _ in handler.messages for rcpt in rcpts)
    expected = {f"u{i}@example.org" for i in range(240)} - handler.refuse
    assert set(received) == expected and set(received.values()) == {1}
    for _, rcpts, raw in handler.messages:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert parsed["To"].addresses[0].addr_spec == rcpts[0]
    assert sum(handler.resets.values()) == 3
    assert set(handler.resets) <= set(per_session)


def test_connections_come_from_the_configuration(services: Services, make_config: Any) -> None:
    """`[email.smtp] connections = 3` in config.toml: the provider built by make_provider sends
    a batch over three connections."""
    handler = Recorder()
    controller = smtp_controller(handler)
    try:
        config = make_config(
            extra=f"""
[email.smtp]
host = "127.0.0.1"
port = {controller.port}
connections = 3
"""
        )
        provider = make_provider(with_provider(config, "smtp"))
        assert isinstance(provider, SmtpProvider) and provider.connections == 3
        counts = _send_issue(services, provider, readers=30)
    finally:
        controller.stop()
    assert (counts.sent, provider.connections_opened) == (30, 3)
    assert len({session for session, _, _ in handler.messages}) == 3


def test_a_dropped_connection_is_opened_again(services: Services) -> None:
    """The server restarts between two batches (every connection dropped): the next batch
    opens new connections and sends every copy, nothing deferred or uncertain."""
    handler = Recorder()
    port = free_port()
    controller = smtp_controller(handler, port)
    provider = _provider(services, port, connections=3, batch_size=30)
    message = fake_render(services.store.issues.get(make_issue(services)))  # type: ignore[arg-type]
    readers = [
        Recipient(n + 1, n + 1, f"r{n}@example.org", f"Zoé {n}", f"https://x.org/u/{n}")
        for n in range(60)
    ]
    try:
        first = provider.send_batch(message, readers[:30])
        controller.stop()
        controller = smtp_controller(handler, port)
        second = provider.send_batch(message, readers[30:])
        provider.close()
    finally:
        controller.stop()
    for result in (first, second):
        assert (result.failed, result.uncertain, result.deferred) == ({}, {}, ())
    assert provider.connections_opened == 6
    received = Counter(rcpt for _, rcpts, _ in handler.messages for rcpt in rcpts)
    assert received == Counter(r.email for r in readers)


def _done(result: BatchResult | None = None, error: Exception | None = None) -> Future[BatchResult]:
    future: Future[BatchResult] = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or BatchResult())
    return future


def test_shares_are_joined_into_one_answer() -> None:
    """The connections' answers make one: failures, uncertain and deferred copies of every
    share; a refusal that stops the send is raised only when no other share sent anything,
    else its share is deferred with the refusal as the error (the next batch raises it)."""
    readers = [Recipient(n, n, f"r{n}@example.org", None, "https://x.org/u") for n in range(6)]
    shares = _shares(readers, 3)
    assert [[r.delivery_id for r in share] for share in shares] == [[0, 1], [2, 3], [4, 5]]
    refused = PermanentProviderError("SMTP login refused")
    joined = _joined(
        shares,
        [
            _done(BatchResult(failed={0: "550"})),
            _done(error=refused),
            _done(BatchResult(deferred=(5,), deferred_error="421 busy", retry_after=3)),
        ],
    )
    assert joined.failed == {0: "550"} and joined.deferred == (5, 2, 3)
    assert (joined.deferred_error, joined.retry_after) == ("421 busy", 3)
    nothing_went = [_done(error=refused), _done(BatchResult(deferred=(2, 3))), _done(error=refused)]
    with pytest.raises(PermanentProviderError, match="login refused"):
        _joined(shares, nothing_went)


def test_callers_at_once_take_turns(services: Services) -> None:
    """The send loop and the outbox share the provider: batches sent from two threads at once
    take turns on the connections, every copy arrives once, none is refused or deferred."""
    handler = Recorder()
    controller = smtp_controller(handler)
    provider = _provider(services, controller.port, connections=2, batch_size=40)
    message = fake_render(services.store.issues.get(make_issue(services)))  # type: ignore[arg-type]
    readers = [
        Recipient(n + 1, n + 1, f"r{n}@example.org", f"Zoé {n}", f"https://x.org/u/{n}")
        for n in range(80)
    ]
    results: list[BatchResult] = []
    threads = [
        threading.Thread(
            target=lambda part=part: results.append(provider.send_batch(message, part))
        )
        for part in (readers[:40], readers[40:])
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        provider.close()
    finally:
        controller.stop()
    assert [(r.failed, r.uncertain, r.deferred) for r in results] == [({}, {}, ())] * 2
    received = Counter(rcpt for _, rcpts, _ in handler.messages for rcpt in rcpts)
    assert received == Counter(r.email for r in readers)
    assert provider.connections_opened == 2
