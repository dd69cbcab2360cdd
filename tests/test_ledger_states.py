"""Precise ledger states: `sending` only while a request is in flight, refusals back to pending
with a not-before time, and the outbox's claims of dead workers released at once."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from datetime import timedelta

import pytest
import sqlalchemy as sa

from newsletter.audience import subscribers
from newsletter.audience.outbox import LEASE, Mailer
from newsletter.deliver.journal import LedgerJournal
from newsletter.deliver.memory import MemoryProvider
from newsletter.deliver.send import CLAIM_LEASE
from newsletter.deliver.workers import dead_local_workers, default_worker
from newsletter.domain.clock import FrozenClock
from newsletter.domain.delivery import DeliveryState, Placeholders, Recipient, RenderedMessage
from newsletter.domain.errors import ClaimLost, SendInterrupted, TransientProviderError
from newsletter.domain.model import IssueState
from newsletter.runtime.audience import audience_of, outbox_mailer
from newsletter.runtime.sending import send_issue
from newsletter.runtime.wiring import Services
from newsletter.store.reader_tables import deliveries, outbox
from tests.delivery_helpers import add_subscribers, dead_pid, fake_render, make_issue

CONSENT = subscribers.Consent(ip="192.0.2.1", source="test", text="fr:abc")


class Killed(BaseException):
    """Stands for the process being SIGKILLed at that moment."""


def _dead_worker() -> str:
    return f"{socket.gethostname()[:40]}:{dead_pid()}:x"


def _memory(services: Services) -> MemoryProvider:
    provider = services.provider
    assert isinstance(provider, MemoryProvider)
    return provider


def _rows(services: Services, issue_id: int) -> list[sa.Row[tuple[str, object]]]:
    with services.store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(deliveries.c.state, deliveries.c.not_before)
                .where(deliveries.c.issue_id == issue_id)
                .order_by(deliveries.c.id)
            ).all()
        )


class RateLimited:
    """The memory provider answering 429 (Retry-After 60 s) to its first `refusals` calls."""

    def __init__(self, inner: MemoryProvider, refusals: int) -> None:
        self.inner, self.refusals = inner, refusals
        self.name, self.batch_size = "limited", inner.batch_size

    def send_batch(self, message: RenderedMessage, recipients: Sequence[Recipient]) -> object:
        if self.refusals > 0:
            self.refusals -= 1
            raise TransientProviderError("429", retry_after=60)
        return self.inner.send_batch(message, recipients)

    def close(self) -> None:
        pass


def test_a_refused_batch_is_pending_during_the_wait(services: Services) -> None:
    """After a 429 the batch is back to pending, not before the Retry-After, while the run waits."""
    issue_id = make_issue(services)
    add_subscribers(services, 3)  # one batch
    services._provider = RateLimited(_memory(services), refusals=1)  # type: ignore[assignment]
    seen: list[list[tuple[str, object]]] = []

    def sleep(_seconds: float) -> None:
        seen.append([tuple(row) for row in _rows(services, issue_id)])

    counts = send_issue(services, issue_id, render=fake_render, sleep=sleep)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 3, 0)
    assert seen, "the run never waited"
    not_before = services.clock() + timedelta(seconds=60)
    for state, due in seen[0]:
        assert state == DeliveryState.PENDING
        assert isinstance(due, type(not_before)) and not_before <= due <= not_before + timedelta(
            seconds=2
        )
    assert all(state == DeliveryState.SENT for state, _ in _rows(services, issue_id))


def test_killed_during_the_wait_leaves_nothing_uncertain(services: Services) -> None:
    """A kill while waiting out a 429 leaves the batch pending; the next run waits for its
    not-before time, then sends it: everyone once, nobody uncertain."""
    issue_id = make_issue(services)
    add_subscribers(services, 5)  # batches of 3 and 2
    memory = _memory(services)
    services._provider = RateLimited(memory, refusals=1)  # type: ignore[assignment]

    def killed(_seconds: float) -> None:
        raise Killed()

    with pytest.raises(Killed):
        send_issue(services, issue_id, render=fake_render, sleep=killed, worker=_dead_worker())
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.sending, counts.uncertain) == (5, 0, 0)

    waits: list[float] = []
    services._provider = memory
    counts = send_issue(services, issue_id, render=fake_render, sleep=waits.append)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 5, 0)
    assert sum(waits) >= 59, "the next run sent before the Retry-After was over"
    emails = sorted(copy.recipient.email for copy in memory.sent)
    assert emails == sorted(f"u{i}@example.org" for i in range(5))


def test_claims_skip_rows_not_yet_due(services: Services) -> None:
    """A released row is claimed by nobody before its not-before time, then as usual."""
    store, clock = services.store, services.clock
    assert isinstance(clock, FrozenClock)
    issue_id = make_issue(services)
    add_subscribers(services, 1)
    store.deliveries.start(issue_id, clock())
    [row] = store.deliveries.claim(issue_id, 10, "w1", clock())
    later = clock() + timedelta(seconds=30)
    store.deliveries.finish([], {}, clock(), release=[row.id], not_before=later)
    assert store.deliveries.claim(issue_id, 10, "w2", clock()) == []
    assert store.deliveries.pending_due(issue_id, clock()) == later
    assert store.deliveries.reclaim([row.id], "w1", clock()) == {row.id}  # its own retry
    store.deliveries.finish([], {}, clock(), release=[row.id], not_before=later)
    clock.advance(seconds=30)
    assert store.deliveries.pending_due(issue_id, clock()) == clock()
    assert [c.id for c in store.deliveries.claim(issue_id, 10, "w2", clock())] == [row.id]
    assert store.deliveries.reclaim([row.id], "w1", clock()) == set()  # w2 holds it now
    assert store.deliveries.pending_due(issue_id, clock()) is None


def test_worker_names_carry_the_boot_and_a_reboot_kills_them() -> None:
    """A worker of this host named with another boot id is dead, whatever its pid."""
    mine = default_worker()
    host, pid, boot, _ = mine.split(":")
    assert len(mine) <= 64 and pid.isdigit()
    assert dead_local_workers([mine]) == []
    if boot:
        other_boot = f"{host}:{pid}:{'0' * 8 if boot != '0' * 8 else '1' * 8}:abcdef"
        assert dead_local_workers([other_boot]) == [other_boot]


def render_email(
    _kind: str, context: Mapping[str, object], placeholders: Placeholders
) -> RenderedMessage:
    text = f"Bonjour {context['name'] or ''} {context.get('confirm_url', '')}"
    return RenderedMessage(subject="Confirmez", preheader="", html=f"<p>{text}</p>", text=text)


def _claimed_by(services: Services, worker: str, in_flight: bool) -> None:
    """A sign-up whose confirmation `worker` claimed (and perhaps handed to the provider)."""
    subscribers.request_subscription(audience_of(services), "a@example.org", None, CONSENT)
    [item] = services.store.outbox.claim(services.clock(), LEASE, worker)
    if in_flight:
        services.store.outbox.in_flight(item.id)


def _mailer(services: Services) -> Mailer:
    return Mailer(outbox_mailer(services, render_email).parts)


def test_outbox_claims_of_a_dead_worker_go_at_once(services: Services) -> None:
    """A worker killed holding a claim it never sent: a new mailer sends it at once, once."""
    _claimed_by(services, _dead_worker(), in_flight=False)
    assert _mailer(services).flush() == 1
    assert len(_memory(services).to("a@example.org")) == 1
    assert services.store.outbox.count() == 0
    assert _mailer(services).flush() == 0
    assert len(_memory(services).to("a@example.org")) == 1


def test_outbox_claims_of_a_live_worker_are_kept(services: Services) -> None:
    """The claim of a worker still running (this process) waits for it or for its lease."""
    _claimed_by(services, default_worker(), in_flight=False)
    assert _mailer(services).flush() == 0
    assert _memory(services).to("a@example.org") == []


def test_outbox_in_flight_claim_of_a_dead_worker_is_never_sent_again(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A dead worker's email already handed to the provider may have gone: dropped, logged,
    never sent a second time, even when the restart comes after its lease has expired."""
    _claimed_by(services, _dead_worker(), in_flight=True)
    services.clock.advance(seconds=LEASE.total_seconds() + 1)  # type: ignore[attr-defined]
    assert _mailer(services).flush() == 0
    assert services.store.outbox.count() == 0
    assert "may have gone" in caplog.text
    assert _memory(services).to("a@example.org") == []


def test_outbox_in_flight_claim_of_a_live_worker_is_kept(services: Services) -> None:
    """Only known-dead workers' in-flight rows are dropped: a live one's stays for it."""
    _claimed_by(services, default_worker(), in_flight=True)
    assert _mailer(services).flush() == 0
    assert services.store.outbox.count() == 1
    with services.store.engine.connect() as connection:
        assert connection.execute(sa.select(outbox.c.in_flight)).scalar_one() is True


def test_stopped_during_the_wait_leaves_the_batch_pending(services: Services) -> None:
    """SIGTERM (or shutdown) while waiting out a 429: the run stops at once, its batch pending
    (not sending, not uncertain); the next run sends it."""
    issue_id = make_issue(services)
    add_subscribers(services, 3)
    memory = _memory(services)
    services._provider = RateLimited(memory, refusals=1)  # type: ignore[assignment]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        services.stopping.set()

    with pytest.raises(SendInterrupted):
        send_issue(services, issue_id, render=fake_render, sleep=sleep)
    assert len(waits) == 1, "the wait went on after the stop"
    counts = services.store.deliveries.status(issue_id, IssueState.SENDING)
    assert (counts.pending, counts.sending, counts.uncertain, counts.sent) == (3, 0, 0, 0)
    services.stopping.clear()
    services._provider = memory
    counts = send_issue(services, issue_id, render=fake_render, sleep=lambda _s: None)
    assert (counts.state, counts.sent, counts.uncertain) == (IssueState.SENT, 3, 0)


def test_copy_by_copy_recovery_and_a_claim_taken_back(services: Services) -> None:
    """SMTP's rows: claimed out of flight, in flight one by one. A dead worker's copy in
    flight is uncertain, its copies not begun pending again; a copy whose row another run took
    back (the claim outlived its lease) is refused to its old sender: ClaimLost, never sent."""
    store, clock = services.store, services.clock
    issue_id = make_issue(services)
    add_subscribers(services, 4)
    store.deliveries.start(issue_id, clock())
    rows = store.deliveries.claim(issue_id, 10, "w1", clock(), in_flight=False)
    first, second, third, fourth = (row.id for row in rows)
    journal = LedgerJournal(store.deliveries, clock, "w1")
    journal.transmitting(first)
    journal.answered(first, accepted=True)
    journal.transmitting(second)  # `first` recorded sent with it; `second` in flight
    later = clock() + CLAIM_LEASE + timedelta(seconds=1)
    assert store.deliveries.recover(issue_id, stale_before=later, now=later) == 1
    with store.engine.connect() as connection:
        query = sa.select(deliveries.c.id, deliveries.c.state)
        states = dict(connection.execute(query.where(deliveries.c.issue_id == issue_id)).all())
    assert states == {
        first: DeliveryState.SENT,
        second: DeliveryState.UNCERTAIN,
        third: DeliveryState.PENDING,
        fourth: DeliveryState.PENDING,
    }
    with pytest.raises(ClaimLost):
        journal.transmitting(third)  # w1 still alive, its claim gone: the copy must not go
    taken = store.deliveries.claim(issue_id, 10, "w2", later, in_flight=False)
    assert {row.id for row in taken} == {third, fourth}
    with pytest.raises(ClaimLost):
        journal.transmitting(third)  # w2's now
    LedgerJournal(store.deliveries, clock, "w2").transmitting(third)
