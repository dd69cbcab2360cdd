"""The ledger-driven send loop: `send_issue` sends an issue to its frozen audience, resumably.

The first run renders the issue once, keeps that render, moves the issue to `sending` and
freezes one delivery row per active subscriber. Every run then claims batches (rows marked
`sending` just before the provider is called), hands them to the provider and records the
answer. A definite refusal (429, 5xx) puts the rows back to `pending` with a not-before time
before the run waits to retry them, so only a request in flight is ever `sending`. A run that
dies mid-call leaves its batch `sending`; the next run turns the rows in flight `uncertain`
(never mailed again unless `resend_uncertain`) and the others `pending`, so killing the process
at any moment never mails anyone twice, and kills between requests leave nothing uncertain.
A batch provider's rows are in flight from the request's start; SMTP's copy by copy, as each
body goes (deliver/journal.py), so a kill leaves one copy per connection uncertain. Recipients
are streamed batch by batch, never loaded whole.

What each provider answer means for the ledger is decided in newsletter.deliver.decide (pure);
this module does the I/O. Each batch holds the copies of one segment (readers who chose the
same sections), sent with that segment's render (newsletter.deliver.segments). It takes what
it needs (`Sending`), never the whole application: newsletter.runtime.sending builds that from
the wiring.
"""

from __future__ import annotations

import functools
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import FrameType
from typing import Any, TypedDict

from newsletter.curate.states import can_start_sending, sources_of
from newsletter.deliver.base import CopyByCopy, Provider, Traceable
from newsletter.deliver.decide import Answer, Next, RetryPolicy, decide_batch
from newsletter.deliver.journal import LedgerJournal
from newsletter.deliver.segments import CopyValues, segment_messages
from newsletter.deliver.segments import Render as Render
from newsletter.deliver.workers import dead_local_workers, default_worker
from newsletter.domain.clock import Clock
from newsletter.domain.delivery import DeliveryCounts, Recipient, RenderedMessage
from newsletter.domain.errors import (
    PermanentProviderError,
    SendInterrupted,
    TransientProviderError,
    UsageError,
)
from newsletter.domain.model import Issue, IssueState
from newsletter.domain.progress import NO_PROGRESS, Progress
from newsletter.store.deliveries import ClaimedDelivery, DeliveryRepository
from newsletter.store.issues import IssueRepository

# How long a claimed batch belongs to its worker without news from it: a batch is claimed (again)
# just before each provider call, so this only has to outlast one call.
CLAIM_LEASE = timedelta(minutes=15)

__all__ = ["CLAIM_LEASE", "RetryPolicy", "Sending", "send_issue"]


@dataclass(frozen=True)
class Sending:
    """One send's dependencies: narrow, passed in by the wiring."""

    deliveries: DeliveryRepository
    issues: IssueRepository
    # Asked for once the issue is known to be sendable and before anything changes: a
    # misconfigured provider fails then, after the usage errors.
    provider: Callable[[], Provider]
    render: Render
    unsubscribe_url: Callable[[int], str]
    clock: Clock
    # Each copy's further values (preferences and click links): deliver.segments.CopyLinks.
    copy_values: CopyValues | None = None
    # Set when the whole process shuts down (`newsletter run`): stop after the batch in flight.
    stopping: threading.Event = field(default_factory=threading.Event)


class SendOptions(TypedDict, total=False):
    """send_issue's keyword options, for the callers that pass them through."""

    resend_uncertain: bool
    progress: Progress
    worker: str | None
    retry: RetryPolicy | None
    sleep: Callable[[float], None]


def send_issue(
    sending: Sending,
    issue_id: int,
    *,
    resend_uncertain: bool = False,
    progress: Progress = NO_PROGRESS,
    worker: str | None = None,
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
        sending=sending,
        issue_id=issue_id,
        worker=worker or default_worker(),
        retry=retry or RetryPolicy(),
        sleep=sleep,
    )
    return run.execute(resend_uncertain=resend_uncertain, progress=progress)


def sendable_issue(issues: IssueRepository, issue_id: int) -> Issue:
    """The issue, unless it does not exist or is canceled (UsageError)."""
    issue = issues.get(issue_id)
    if issue is None:
        raise UsageError(f"issue {issue_id} does not exist (see `newsletter issue list`)")
    if issue.state is IssueState.CANCELED:
        raise UsageError(f"issue {issue_id} is canceled; there is nothing to send")
    return issue


def render_for_sending(render: Render, issue: Issue) -> RenderedMessage:
    """The issue's render, marked with its id (what the ledger freezes)."""
    return replace(render(issue), issue_id=issue.id)


@dataclass
class _SendRun:
    sending: Sending
    issue_id: int
    worker: str
    retry: RetryPolicy
    sleep: Callable[[float], None]
    stop_requested: bool = False
    rng: random.Random = field(default_factory=random.Random)

    def execute(self, *, resend_uncertain: bool, progress: Progress) -> DeliveryCounts:
        deliveries, issues, clock = self.sending.deliveries, self.sending.issues, self.sending.clock
        issue = sendable_issue(issues, self.issue_id)
        provider = self.sending.provider()
        if can_start_sending(issue.state):
            if not issue.items:
                raise UsageError(f"issue {self.issue_id} has no article to send")
            # Render before starting: a template error leaves the issue untouched.
            rendered = render_for_sending(self.sending.render, issue)
            if not deliveries.start(self.issue_id, clock()):
                moved = issues.get(self.issue_id)  # another process moved it meanwhile
                if moved is None or moved.state is IssueState.CANCELED:
                    raise UsageError(f"issue {self.issue_id} was canceled meanwhile")
            issues.freeze_render(self.issue_id, rendered)
        now = clock()
        dead = dead_local_workers(deliveries.sending_workers(self.issue_id))
        if isinstance(provider, Traceable) and dead:
            self._settle(provider, dead)
        deliveries.recover(
            self.issue_id, stale_before=now - CLAIM_LEASE, now=now, dead_workers=dead
        )
        if resend_uncertain:
            deliveries.requeue_uncertain(self.issue_id, now)
        messages = self._messages()
        with _stop_on_signals(self._request_stop):
            self._loop(provider, messages, progress)
        return self._finish()

    def _settle(self, provider: Traceable, dead: Sequence[str]) -> None:
        """What dead senders left in flight, settled by the provider's own record: the copies
        that went are `sent`, the others `pending` again. Only for senders known dead: one
        whose lease merely ran out may still be writing."""
        deliveries = self.sending.deliveries
        left = deliveries.in_flight_of(self.issue_id, dead)
        if left:
            went = provider.delivered(self.issue_id, left)
            deliveries.settle(self.issue_id, dead, went, self.sending.clock())

    def _message(self) -> RenderedMessage:
        """The render frozen when sending started (rendered again if the run died before)."""
        issues = self.sending.issues
        frozen = issues.frozen_render(self.issue_id)
        if frozen is None:
            issue = issues.get(self.issue_id)
            assert issue is not None
            issues.freeze_render(self.issue_id, render_for_sending(self.sending.render, issue))
            frozen = issues.frozen_render(self.issue_id)
            assert frozen is not None
        return frozen

    def _messages(self) -> dict[str, RenderedMessage]:
        """The frozen render of each segment with copies left (deliver.segments)."""
        sending = self.sending
        return segment_messages(
            self.issue_id,
            self._message(),
            issues=sending.issues,
            deliveries=sending.deliveries,
            render=sending.render,
            clock=sending.clock,
        )

    def _loop(
        self, provider: Provider, messages: dict[str, RenderedMessage], progress: Progress
    ) -> None:
        deliveries = self.sending.deliveries
        counts = self._counts()
        # Counted here batch by batch: re-counting the ledger after every batch would cost a
        # scan of the whole issue each time.
        sent_in_all = counts.sent
        finished = counts.sent + counts.failed + counts.skipped + counts.uncertain
        progress.start(counts.total, finished)
        waited_until = self.sending.clock()
        # A batch provider's rows are in flight as soon as they are claimed; SMTP's as each
        # copy goes (its journal).
        copy_by_copy = provider if isinstance(provider, CopyByCopy) else None
        while not self._stopping():
            # After waiting for `waited_until`, rows due then are due (even if a test's clock
            # stood still meanwhile).
            now = max(self.sending.clock(), waited_until)
            claimed = deliveries.claim(
                self.issue_id,
                provider.batch_size,
                self.worker,
                now,
                in_flight=copy_by_copy is None,
            )
            if not claimed:
                due = deliveries.pending_due(self.issue_id, now)
                if due is None:
                    return
                # Rows refused for now wait out their not-before time; a page that held only
                # leavers (now skipped) leaves `due` at `now`.
                self._wait((due - now).total_seconds())
                waited_until = due
                continue
            segment = claimed[0].segment  # a batch holds one segment's copies
            if segment not in messages:  # requeued meanwhile (--resend-uncertain elsewhere)
                messages = self._messages()
            sent_in_all += self._send(provider, copy_by_copy, messages[segment], claimed)
            progress.advance(len(claimed), f"{sent_in_all} sent")
        raise SendInterrupted(
            f"stopped by a signal after the batch in flight; run `newsletter issue send "
            f"{self.issue_id}` again to resume"
        )

    def _send(
        self,
        provider: Provider,
        copy_by_copy: CopyByCopy | None,
        message: RenderedMessage,
        claimed: list[ClaimedDelivery],
    ) -> int:
        """One batch: call the provider (through `copy_by_copy`, the same provider, with a
        journal, when it sends copy by copy), apply what decide_batch makes of its answer,
        retry what it deferred. Returns how many copies were sent."""
        deliveries, clock = self.sending.deliveries, self.sending.clock
        remaining = [self._recipient(row, message) for row in claimed]
        send_batch = provider.send_batch
        if copy_by_copy is not None:
            send_batch = functools.partial(
                copy_by_copy.send_journaled, journal=LedgerJournal(deliveries, clock, self.worker)
            )
        retries = 0
        sent_count = 0
        while True:
            answer: Answer
            try:
                answer = send_batch(message, remaining)
            except (TransientProviderError, PermanentProviderError) as exc:
                answer = exc
            decision = decide_batch(
                [r.delivery_id for r in remaining],
                answer,
                retries=retries,
                policy=self.retry,
                stopping=self._stopping(),
                rng=self.rng,
            )
            if decision.records or decision.release:
                # Released before any wait: killed while waiting, the run leaves them pending.
                now = clock()
                deliveries.finish(
                    decision.sent,
                    decision.failed,
                    now,
                    uncertain=decision.uncertain,
                    release=decision.release,
                    not_before=now + timedelta(seconds=decision.delay),
                )
            sent_count += len(decision.sent)
            if decision.next is Next.REFUSED and isinstance(answer, PermanentProviderError):
                raise answer
            if decision.next is Next.GIVE_UP:
                raise TransientProviderError(
                    f"{provider.name} still failing after {self.retry.attempts} attempts "
                    f"({decision.error}); run `newsletter issue send {self.issue_id}` "
                    "again to resume",
                    retry_after=decision.retry_after,
                    provider=provider.name,
                )
            if decision.next is not Next.RETRY:
                return sent_count
            self._wait(decision.delay)
            if self._stopping():
                return sent_count  # the rows are pending: the next run sends them
            retries += 1
            # Claimed again for the retry: whoever complained or bounced meanwhile is skipped.
            kept = deliveries.reclaim(
                decision.retry, self.worker, clock(), in_flight=copy_by_copy is None
            )
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

    def _recipient(self, row: ClaimedDelivery, message: RenderedMessage) -> Recipient:
        unsubscribe_url = self.sending.unsubscribe_url(row.subscriber_id)
        copy_values = self.sending.copy_values
        return Recipient(
            delivery_id=row.id,
            subscriber_id=row.subscriber_id,
            email=row.email,
            name=row.name,
            unsubscribe_url=unsubscribe_url,
            extra=copy_values(row.id, unsubscribe_url, message) if copy_values else (),
        )

    def _counts(self) -> DeliveryCounts:
        issue = self.sending.issues.get(self.issue_id)
        assert issue is not None
        return self.sending.deliveries.status(self.issue_id, issue.state)

    def _finish(self) -> DeliveryCounts:
        counts = self._counts()
        if counts.state is IssueState.SENDING and counts.pending == 0 and counts.sending == 0:
            self.sending.issues.transition(
                self.issue_id,
                sources_of(IssueState.SENT),
                IssueState.SENT,
                sent_at=self.sending.clock(),
            )
            counts = self._counts()
        return counts

    def _request_stop(self) -> None:
        self.stop_requested = True

    def _stopping(self) -> bool:
        """A signal to this run, or the whole process shutting down (`newsletter run`)."""
        return self.stop_requested or self.sending.stopping.is_set()


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
