"""Complaints and bounces act before the next batch, not the next issue: a signed SendGrid
event that arrives over HTTP while an issue is being sent skips that recipient's copy if it
has not gone yet, including a copy waiting to be retried after a 429."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from newsletter.deliver import sender_of
from newsletter.deliver.memory import MemoryProvider
from newsletter.deliver.send import RetryPolicy
from newsletter.domain.delivery import BatchResult, DeliveryState, Recipient, RenderedMessage
from newsletter.domain.errors import TransientProviderError
from newsletter.runtime.sending import send_issue
from newsletter.store.reader_tables import deliveries
from tests.delivery_helpers import add_subscribers, fake_render, make_issue

from .conftest import LiveServer
from .test_webhook_http import SendGridSigner

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]


@dataclass
class EventfulProvider:
    """The memory provider (batches of 3), with a hook run after each batch it sends."""

    inner: MemoryProvider
    after: Callable[[int], None]
    refuse_batches: set[int] = field(default_factory=set)  # calls answered with a 429
    calls: int = 0
    name: str = "eventful"

    @property
    def batch_size(self) -> int:
        return self.inner.batch_size

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> BatchResult:
        self.calls += 1
        if self.calls in self.refuse_batches:
            raise TransientProviderError("429 Too Many Requests", retry_after=1)
        result = self.inner.send_batch(message, recipients)
        self.after(self.calls)
        return result

    def check(self) -> str:
        return "eventful"

    def close(self) -> None:
        pass


def _post_event(live: LiveServer, signer: SendGridSigner, event: dict[str, Any]) -> None:
    """What SendGrid does: a signed POST to the webhook, handled by the running app."""
    body = json.dumps([event]).encode()
    headers = signer.headers(body, int(live.clock.now.timestamp()))
    answer = live.client().post("/webhooks/sendgrid", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


def _states(live: LiveServer, issue_id: int) -> dict[str, str]:
    with live.services.store.engine.connect() as connection:
        rows = connection.execute(
            deliveries.select().where(deliveries.c.issue_id == issue_id)
        ).all()
    return {row.email: row.state for row in rows}


EVENTS = {
    "spamreport": {"event": "spamreport"},
    "hard-bounce": {"event": "bounce", "type": "bounce", "reason": "550 5.1.1 unknown user"},
}


@pytest.mark.parametrize("kind", EVENTS)
def test_event_during_a_send_skips_a_later_batchs_copy(live_server: Start, kind: str) -> None:
    """Nine recipients in batches of three: after batch 1, a complaint (or hard bounce) for a
    recipient of batch 3 comes through the webhook; that copy is skipped, the others sent."""
    signer = SendGridSigner()
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    services = live.services
    add_subscribers(services, 9)
    issue_id = make_issue(services)

    def after(batch: int) -> None:
        if batch == 1:
            event = {**EVENTS[kind], "email": "U7@example.org", "sg_event_id": f"ev-{kind}"}
            _post_event(live, signer, event)

    provider = EventfulProvider(MemoryProvider(sender_of(services.config), 3), after)
    services._provider = provider

    counts = send_issue(services, issue_id, render=fake_render, sleep=lambda _s: None)

    states = _states(live, issue_id)
    assert states.pop("u7@example.org") == DeliveryState.SKIPPED
    assert set(states.values()) == {DeliveryState.SENT}
    assert (counts.sent, counts.skipped) == (8, 1)
    assert "u7@example.org" not in {copy.recipient.email for copy in provider.inner.sent}
    assert provider.calls == 3


def test_complaint_while_a_batch_waits_to_be_retried_skips_its_copy(
    live_server: Start,
) -> None:
    """Batch 2 is refused with a 429; while it waits, one of its recipients complains: the
    retry leaves that copy out (skipped) and sends the other two."""
    signer = SendGridSigner()
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    services = live.services
    add_subscribers(services, 6)
    issue_id = make_issue(services)
    waits: list[float] = []

    def wait(seconds: float) -> None:
        if not waits:
            event = {"event": "spamreport", "email": "u4@example.org", "sg_event_id": "ev-w"}
            _post_event(live, signer, event)
        waits.append(seconds)

    provider = EventfulProvider(
        MemoryProvider(sender_of(services.config), 3), lambda _n: None, refuse_batches={2}
    )
    services._provider = provider

    counts = send_issue(
        services, issue_id, render=fake_render, sleep=wait, retry=RetryPolicy(base_seconds=0.01)
    )

    states = _states(live, issue_id)
    assert waits  # the batch did wait for its retry
    assert states.pop("u4@example.org") == DeliveryState.SKIPPED
    assert set(states.values()) == {DeliveryState.SENT}
    assert (counts.sent, counts.skipped) == (5, 1)
    assert "u4@example.org" not in {copy.recipient.email for copy in provider.inner.sent}
