"""The ledger-driven send loop: `send_issue` sends an issue to its frozen audience, resumably.

The first run renders the issue once, keeps that render, moves the issue to `sending` and
freezes one delivery row per active subscriber. Every run then claims batches (rows marked
`sending` before the provider is called), hands them to the provider and records the answer.
A run that dies mid-call leaves its batch `sending`; the next run turns such rows `uncertain`
(never mailed again unless `resend_uncertain`), so killing the process at any moment never
mails anyone twice. Recipients are streamed batch by batch, never loaded whole.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import FrameType
from typing import Any

from newsletter.curate.issues import unsubscribe_urls
from newsletter.curate.states import can_start_sending, sources_of
from newsletter.domain.errors import (
    PermanentProviderError,
    SendInterrupted,
    TransientProviderError,
    UsageError,
)
from newsletter.domain.model import (
    BatchResult,
    DeliveryCounts,
    Issue,
    IssueState,
    Recipient,
    RenderedMessage,
)
from newsletter.domain.progress import NO_PROGRESS, Progress
from newsletter.runtime.wiring import Services
from newsletter.store.deliveries import ClaimedDelivery

Render = Callable[[Issue], RenderedMessage]

# How long a claimed batch belongs to its worker without news from it. A batch in flight renews
# its lease before each retry, so this only has to outlast one provider call plus one wait.
CLAIM_LEASE = timedelta(minutes=15)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of transient provider errors: exponential backoff with jitter."""

    attempts: int = 6  # provider calls per batch before the run gives up
    base_seconds: float = 1.0
    max_seconds: float = 60.0
    max_retry_after: float = 300.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        if retry_after is not None:
            # The provider said when: wait that long, plus a little so workers do not stampede.
            return min(self.max_retry_after, retry_after) + rng.uniform(0, self.base_seconds)
        backoff = min(self.max_seconds, self.base_seconds * 2.0**retry)
        return backoff / 2 + rng.uniform(0, backoff / 2)


def send_issue(
    services: Services,
    issue_id: int,
    *,
    resend_uncertain: bool = False,
    progress: Progress = NO_PROGRESS,
    worker: str | None = None,
    render: Render | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryCounts:
    """Send (or resume sending) an issue; returns the ledger's counts when the run ends.

    Raises UsageError for an unknown or canceled issue, PermanentProviderError when the
    provider refuses everything (bad credentials), TransientProviderError when it stayed
    unavailable after the bounded retries, SendInterrupted after SIGTERM/SIGINT. In every case
    the batch in flight is settled first, and running it again resumes.
    """
    run = _SendRun(
        services=services,
        issue_id=issue_id,
        worker=worker or default_worker(),
        retry=retry or RetryPolicy(),
        sleep=sleep,
    )
    return run.execute(render, resend_uncertain=resend_uncertain, progress=progress)


def default_worker() -> str:
    """host:pid:random, so a later run on this host can tell whether the worker still lives."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def dead_local_workers(workers: Sequence[str]) -> list[str]:
    """The workers named after a process of this host that no longer exists."""
    host = socket.gethostname()[:40]
    dead = []
    for worker in workers:
        worker_host, _, rest = worker.partition(":")
        pid_text = rest.partition(":")[0]
        if worker_host == host and pid_text.isdigit() and not _process_exists(int(pid_text)):
            dead.append(worker)
    return dead


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    # A zombie (killed, not yet reaped by its parent) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


@dataclass
class _SendRun:
    services: Services
    issue_id: int
    worker: str
    retry: RetryPolicy
    sleep: Callable[[float], None]
    stop_requested: bool = False
    rng: random.Random = field(default_factory=random.Random)
    _unsubscribe_url: Callable[[int], str] | None = None

    def execute(
        self, render: Render | None, *, resend_uncertain: bool, progress: Progress
    ) -> DeliveryCounts:
        store = self.services.store
        issue = store.issues.get(self.issue_id)
        if issue is None:
            raise UsageError(f"issue {self.issue_id} does not exist (see `newsletter issue list`)")
        if issue.state is IssueState.CANCELED:
            raise UsageError(f"issue {self.issue_id} is canceled; there is nothing to send")
        self.services.provider  # noqa: B018 - a provider misconfigured fails before any change
        if can_start_sending(issue.state):
            if not issue.items:
                raise UsageError(f"issue {self.issue_id} has no article to send")
            # Render before starting: a template error leaves the issue untouched.
            rendered = self._render(issue, render)
            if not store.deliveries.start(self.issue_id, self.services.clock()):
                moved = store.issues.get(self.issue_id)  # another process moved it meanwhile
                if moved is None or moved.state is IssueState.CANCELED:
                    raise UsageError(f"issue {self.issue_id} was canceled meanwhile")
            store.issues.freeze_render(self.issue_id, rendered)
        now = self.services.clock()
        store.deliveries.recover(
            self.issue_id,
            stale_before=now - CLAIM_LEASE,
            now=now,
            dead_workers=dead_local_workers(store.deliveries.sending_workers(self.issue_id)),
        )
        if resend_uncertain:
            store.deliveries.requeue_uncertain(self.issue_id, now)
        message = self._message(render)
        with _stop_on_signals(self._request_stop):
            self._loop(message, progress)
        return self._finish()

    def _render(self, issue: Issue, render: Render | None) -> RenderedMessage:
        if render is None:
            render = self.services.renderer.render_issue
        return replace(render(issue), issue_id=issue.id)

    def _message(self, render: Render | None) -> RenderedMessage:
        """The render frozen when sending started (rendered again if the run died before)."""
        frozen = self.services.store.issues.frozen_render(self.issue_id)
        if frozen is None:
            issue = self.services.store.issues.get(self.issue_id)
            assert issue is not None
            self.services.store.issues.freeze_render(self.issue_id, self._render(issue, render))
            frozen = self.services.store.issues.frozen_render(self.issue_id)
            assert frozen is not None
        return frozen

    def _loop(self, message: RenderedMessage, progress: Progress) -> None:
        deliveries = self.services.store.deliveries
        provider = self.services.provider
        counts = self._counts()
        # Counted here batch by batch: re-counting the ledger after every batch would cost a
        # scan of the whole issue each time.
        sent_in_all = counts.sent
        finished = counts.sent + counts.failed + counts.skipped + counts.uncertain
        progress.start(counts.total, finished)
        while not self._stopping():
            claimed = deliveries.claim(
                self.issue_id, provider.batch_size, self.worker, self.services.clock()
            )
            if not claimed:
                if deliveries.has_pending(self.issue_id):
                    continue  # that page held only leavers, now skipped
                return
            sent_in_all += self._send(message, claimed)
            progress.advance(len(claimed), f"{sent_in_all} sent")
        raise SendInterrupted(
            f"stopped by a signal after the batch in flight; run `newsletter issue send "
            f"{self.issue_id}` again to resume"
        )

    def _send(self, message: RenderedMessage, claimed: list[ClaimedDelivery]) -> int:
        """One batch: call the provider, record what it did, retry what it deferred.

        Returns how many copies were sent.
        """
        deliveries = self.services.store.deliveries
        provider = self.services.provider
        remaining = [self._recipient(row) for row in claimed]
        retries = 0
        sent_count = 0
        while True:
            ids = [r.delivery_id for r in remaining]
            try:
                result = provider.send_batch(message, remaining)
            except TransientProviderError as exc:
                result = BatchResult(
                    deferred=tuple(ids), deferred_error=str(exc), retry_after=exc.retry_after
                )
            except PermanentProviderError:
                deliveries.release(ids, self.services.clock())
                raise
            deferred = set(result.deferred)
            settled = deferred | result.failed.keys() | result.uncertain.keys()
            sent = [i for i in ids if i not in settled]
            deliveries.finish(
                sent, result.failed, self.services.clock(), uncertain=result.uncertain
            )
            sent_count += len(sent)
            if not deferred:
                return sent_count
            remaining = [r for r in remaining if r.delivery_id in deferred]
            if retries + 1 >= self.retry.attempts or self._stopping():
                deliveries.release(list(deferred), self.services.clock())
                if self._stopping():
                    return sent_count
                raise TransientProviderError(
                    f"{provider.name} still failing after {self.retry.attempts} attempts "
                    f"({result.deferred_error}); run `newsletter issue send {self.issue_id}` "
                    "again to resume",
                    retry_after=result.retry_after,
                )
            self._wait(self.retry.delay(retries, result.retry_after, self.rng))
            retries += 1
            # Claimed again for the retry: whoever complained or bounced meanwhile is skipped.
            kept = deliveries.renew(list(deferred), self.worker, self.services.clock())
            remaining = [r for r in remaining if r.delivery_id in kept]
            if not remaining:
                return sent_count

    def _wait(self, seconds: float) -> None:
        """Sleep, waking early when asked to stop."""
        left = seconds
        while left > 0 and not self._stopping():
            step = min(left, 0.5)
            self.sleep(step)
            left -= step

    def _recipient(self, row: ClaimedDelivery) -> Recipient:
        if self._unsubscribe_url is None:
            self._unsubscribe_url = unsubscribe_urls(
                self.services.signer,
                self.services.config.settings.newsletter.base_url,
                self.services.clock,
            )
        return Recipient(
            delivery_id=row.id,
            subscriber_id=row.subscriber_id,
            email=row.email,
            name=row.name,
            unsubscribe_url=self._unsubscribe_url(row.subscriber_id),
        )

    def _counts(self) -> DeliveryCounts:
        issue = self.services.store.issues.get(self.issue_id)
        assert issue is not None
        return self.services.store.deliveries.status(self.issue_id, issue.state)

    def _finish(self) -> DeliveryCounts:
        counts = self._counts()
        if counts.state is IssueState.SENDING and counts.pending == 0 and counts.sending == 0:
            self.services.store.issues.transition(
                self.issue_id,
                sources_of(IssueState.SENT),
                IssueState.SENT,
                sent_at=self.services.clock(),
            )
            counts = self._counts()
        return counts

    def _request_stop(self) -> None:
        self.stop_requested = True

    def _stopping(self) -> bool:
        """A signal to this run, or the whole process shutting down (`newsletter run`)."""
        return self.stop_requested or self.services.stopping.is_set()


@contextmanager
def _stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM/SIGINT ask the run to stop after its batch in flight; a second one kills."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: FrameType | None) -> None:
        stop()
        signal.signal(signum, previous[signum])  # the next signal acts at once

    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@dataclass(frozen=True)
class DryRun:
    """What `issue send --dry-run` found: who would be mailed, with every copy built in memory."""

    id: int
    state: IssueState
    would_send: int
    copies_built: int

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": str(self.state),
            "dry_run": True,
            "would_send": self.would_send,
            "copies_built": self.copies_built,
        }


def dry_run(services: Services, issue_id: int, *, render: Render | None = None) -> DryRun:
    """Build every copy through the memory provider; the ledger and the issue stay untouched.

    Before sending starts the audience is the active subscribers; once started, the rows still
    pending (counted only: their copies are built when they go).
    """
    from newsletter.deliver import sender_of
    from newsletter.deliver.memory import MemoryProvider
    from newsletter.domain.model import SubscriberStatus

    store = services.store
    issue = store.issues.get(issue_id)
    if issue is None:
        raise UsageError(f"issue {issue_id} does not exist (see `newsletter issue list`)")
    if issue.state is IssueState.CANCELED:
        raise UsageError(f"issue {issue_id} is canceled; there is nothing to send")
    if not can_start_sending(issue.state):
        pending = store.deliveries.status(issue_id, issue.state).pending
        return DryRun(issue_id, issue.state, would_send=pending, copies_built=0)
    run = _SendRun(services, issue_id, "dry-run", RetryPolicy(), time.sleep)
    message = run._render(issue, render)
    provider = MemoryProvider(sender=sender_of(services.config), batch_size=100)
    url = unsubscribe_urls(
        services.signer, services.config.settings.newsletter.base_url, services.clock
    )
    built = 0
    batch: list[Recipient] = []
    for subscriber in store.subscribers.iter(SubscriberStatus.ACTIVE):
        batch.append(
            Recipient(0, subscriber.id, subscriber.email, subscriber.name, url(subscriber.id))
        )
        if len(batch) == provider.batch_size:
            built += _build_in_memory(provider, message, batch)
            batch = []
    built += _build_in_memory(provider, message, batch)
    return DryRun(issue_id, issue.state, would_send=built, copies_built=built)


def _build_in_memory(provider: Any, message: RenderedMessage, batch: list[Recipient]) -> int:
    if not batch:
        return 0
    provider.send_batch(message, batch)
    built = len(provider.sent)
    provider.sent.clear()  # bounded memory: the copies were built, nothing keeps them
    return built
