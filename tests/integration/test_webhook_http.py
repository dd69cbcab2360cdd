"""SendGrid's signed event webhook over real HTTP: signed like SendGrid signs (ECDSA P-256 over
timestamp + raw body), forged, stale and replayed requests refused or not applied twice."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from newsletter.domain.delivery import DeliveryState
from newsletter.domain.readers import SubscriberStatus
from newsletter.store.issues import NewItem
from newsletter.store.reader_tables import deliveries
from newsletter.store.tables import articles, feeds

from .conftest import LiveServer

pytestmark = pytest.mark.integration

Start = Callable[..., LiveServer]
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"


class SendGridSigner:
    """Signs webhook requests the way SendGrid does, with a key pair made for the test."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key = base64.b64encode(der).decode()  # as SendGrid's settings page shows it

    def headers(self, body: bytes, timestamp: int) -> dict[str, str]:
        signed = str(timestamp).encode() + body
        signature = self.private_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE: base64.b64encode(signature).decode(),
            TIMESTAMP: str(timestamp),
            "Content-Type": "application/json",
        }


@pytest.fixture
def signer() -> SendGridSigner:
    return SendGridSigner()


def _post(
    live: LiveServer, signer: SendGridSigner, events: list[dict[str, Any]], age: float = 0
) -> httpx.Response:
    body = json.dumps(events).encode()
    timestamp = int(live.clock.now.timestamp() - age)
    return live.client().post(
        "/webhooks/sendgrid", content=body, headers=signer.headers(body, timestamp)
    )


def _ledger(live: LiveServer) -> tuple[int, dict[str, int]]:
    """An issue sent to three active subscribers whose deliveries all ended uncertain."""
    store = live.services.store
    now = live.clock.now
    ids = {}
    for name in ("ann", "ben", "cat"):
        subscriber, _ = store.subscribers.add(
            f"{name}@example.org", None, SubscriberStatus.ACTIVE, now
        )
        ids[name] = subscriber.id
    issue = store.issues.create("n°1", [NewItem(article_id=_article(live))], now)
    store.deliveries.start(issue.id, now)
    with store.engine.begin() as connection:
        connection.execute(deliveries.update().values(state=DeliveryState.UNCERTAIN))
        rows = connection.execute(deliveries.select()).all()
    by_subscriber = {row.subscriber_id: row.id for row in rows}
    return issue.id, {name: by_subscriber[sid] for name, sid in ids.items()}


def _article(live: LiveServer) -> int:
    """One stored article for the issue to hold."""
    now = live.clock.now
    with live.services.store.engine.begin() as connection:
        feed_id = connection.execute(
            feeds.insert().values(name="f", url="https://e.org/f", config_url="https://e.org/f")
        ).inserted_primary_key[0]
        return int(
            connection.execute(
                articles.insert().values(
                    feed_id=feed_id,
                    guid="g1",
                    url="https://e.org/1",
                    identity="https://e.org/1",
                    title="T",
                    collected_at=now,
                )
            ).inserted_primary_key[0]
        )


def _event(kind: str, email: str, delivery_id: int, issue_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "email": email,
        "timestamp": 1795600000,
        "event": kind,
        "sg_event_id": f"{kind}-{delivery_id}-{extra.pop('n', 0)}",
        "sg_message_id": "abc.filter0001",
        "delivery_id": str(delivery_id),
        "issue_id": str(issue_id),
        **extra,
    }


def test_signed_events_are_applied_once(live_server: Start, signer: SendGridSigner) -> None:
    """delivered resolves uncertain deliveries; hard bounce, spam report, unsubscribe mark the
    subscriber; blocked does not; opens and clicks are counted; a replay changes nothing."""
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    issue_id, ids = _ledger(live)
    events = [
        _event("delivered", "ann@example.org", ids["ann"], issue_id),
        _event("processed", "ben@example.org", ids["ben"], issue_id),
        _event("open", "ann@example.org", ids["ann"], issue_id, n=1),
        _event("open", "ann@example.org", ids["ann"], issue_id, n=2),
        _event("click", "ben@example.org", ids["ben"], issue_id, url="https://example.org/1"),
        _event("bounce", "cat@example.org", ids["cat"], issue_id, type="blocked", n=1),
        _event("spamreport", "ben@example.org", ids["ben"], issue_id),
    ]

    first = _post(live, signer, events)
    counts = live.services.store.deliveries.counts(issue_id)
    status = {n: live.services.store.subscribers.by_email(f"{n}@example.org") for n in ids}

    assert first.status_code == 200
    assert first.json() == {"applied": 7, "duplicates": 0}
    assert counts[DeliveryState.SENT] == 2 and counts[DeliveryState.UNCERTAIN] == 1
    assert status["ann"].status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]
    assert status["ben"].status is SubscriberStatus.COMPLAINED  # type: ignore[union-attr]
    assert status["cat"].status is SubscriberStatus.ACTIVE  # type: ignore[union-attr]

    live.clock.advance(seconds=30)
    replay = _post(live, signer, events)
    more = [
        _event("bounce", "cat@example.org", ids["cat"], issue_id, type="bounce", n=2),
        _event("unsubscribe", "ann@example.org", ids["ann"], issue_id),
    ]
    second = _post(live, signer, more)

    assert replay.json() == {"applied": 0, "duplicates": 7}
    assert second.json() == {"applied": 2, "duplicates": 0}
    assert live.services.store.events.counts(issue_id)["open"] == 2
    assert live.services.store.events.unique_counts(issue_id)["open"] == 1
    assert live.services.store.events.counts(issue_id)["click"] == 1
    cat = live.services.store.subscribers.by_email("cat@example.org")
    ann = live.services.store.subscribers.by_email("ann@example.org")
    assert cat is not None and cat.status is SubscriberStatus.BOUNCED
    assert ann is not None and ann.status is SubscriberStatus.UNSUBSCRIBED
    assert live.services.store.deliveries.counts(issue_id)[DeliveryState.FAILED] == 1


def test_bounce_of_a_confirmation_email_is_found_by_address(
    live_server: Start, signer: SendGridSigner
) -> None:
    """Events without ledger ids (transactional emails) reach the subscriber by address."""
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    live.services.store.subscribers.add(
        "gone@example.org", None, SubscriberStatus.PENDING, live.clock.now
    )
    dropped = {
        "email": "Gone@EXAMPLE.org",
        "event": "dropped",
        "reason": "Bounced Address",
        "sg_event_id": "d1",
    }

    assert _post(live, signer, [dropped]).status_code == 200
    found = live.services.store.subscribers.by_email("gone@example.org")
    assert found is not None and found.status is SubscriberStatus.BOUNCED


def test_forged_stale_and_unsigned_requests_are_refused(
    live_server: Start, signer: SendGridSigner
) -> None:
    """A signature by another key, a body changed after signing, a timestamp older than ten
    minutes or missing headers: 403, nothing applied."""
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    live.services.store.subscribers.add(
        "vic@example.org", None, SubscriberStatus.ACTIVE, live.clock.now
    )
    events = [{"email": "vic@example.org", "event": "spamreport", "sg_event_id": "s1"}]
    body = json.dumps(events).encode()
    now = int(live.clock.now.timestamp())
    http = live.client()

    other_key = SendGridSigner().headers(body, now)
    tampered_headers = signer.headers(body, now)
    stale = _post(live, signer, events, age=timedelta(minutes=11).total_seconds())
    tampered = body.replace(b"s1", b"s2")
    unsigned = {"Content-Type": "application/json"}
    garbled = {**tampered_headers, SIGNATURE: "%%%"}
    answers = [
        http.post("/webhooks/sendgrid", content=body, headers=other_key),
        http.post("/webhooks/sendgrid", content=tampered, headers=tampered_headers),
        http.post("/webhooks/sendgrid", content=body, headers=unsigned),
        http.post("/webhooks/sendgrid", content=body, headers=garbled),
        stale,
    ]

    assert [answer.status_code for answer in answers] == [403] * 5
    assert "ten minutes" in stale.json()["detail"]
    vic = live.services.store.subscribers.by_email("vic@example.org")
    assert vic is not None and vic.status is SubscriberStatus.ACTIVE
    fresh = _post(live, signer, events, age=timedelta(minutes=9).total_seconds())
    assert fresh.status_code == 200


def test_signed_garbage_is_a_400(live_server: Start, signer: SendGridSigner) -> None:
    """A correctly signed body that is not a JSON list of events gets 400 with a message."""
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    body = b'{"event": "open"}'
    answer = live.client().post(
        "/webhooks/sendgrid",
        content=body,
        headers=signer.headers(body, int(live.clock.now.timestamp())),
    )

    assert answer.status_code == 400
    assert "list" in answer.json()["detail"]


def test_no_key_configured_is_403_and_logged(
    live_server: Start, signer: SendGridSigner, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a configured public key every request is refused, and the log says why."""
    live = live_server()
    body = b"[]"

    with caplog.at_level(logging.ERROR, logger="newsletter.web"):
        answer = live.client().post(
            "/webhooks/sendgrid",
            content=body,
            headers=signer.headers(body, int(live.clock.now.timestamp())),
        )

    assert answer.status_code == 403
    assert "webhook_public_key" in answer.json()["detail"]
    assert any("webhook_public_key" in record.getMessage() for record in caplog.records)


def test_an_unreadable_key_or_a_non_utf8_body_is_a_403_not_a_500(
    live_server: Start, signer: SendGridSigner
) -> None:
    """A configured key that is not an ECDSA public key, and a correctly signed body that is not
    UTF-8: both refused with a one-line 403, never a traceback."""
    body = b"[]"
    broken = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": "bm90IGEga2V5"})
    unreadable = broken.client().post(
        "/webhooks/sendgrid",
        content=body,
        headers=signer.headers(body, int(broken.clock.now.timestamp())),
    )
    live = live_server(environ={"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key})
    latin1 = b'[{"email": "l\xe9a@example.org", "event": "spamreport"}]'
    not_utf8 = live.client().post(
        "/webhooks/sendgrid",
        content=latin1,
        headers=signer.headers(latin1, int(live.clock.now.timestamp())),
    )

    assert unreadable.status_code == 403
    assert "cannot be read" in unreadable.json()["detail"]
    assert not_utf8.status_code == 403
    assert "does not match" in not_utf8.json()["detail"]
