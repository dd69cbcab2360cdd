"""`issue send --dry-run`: every copy built through the memory provider, nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from newsletter.curate.states import can_start_sending
from newsletter.deliver.base import Sender
from newsletter.deliver.memory import MemoryProvider
from newsletter.deliver.send import Render, render_for_sending, sendable_issue
from newsletter.domain.delivery import Recipient, RenderedMessage
from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.domain.segments import EVERYTHING, for_segment, segment_key
from newsletter.store.deliveries import DeliveryRepository
from newsletter.store.issues import IssueRepository
from newsletter.store.subscribers import SubscriberRepository


@dataclass(frozen=True)
class DryRun:
    """What `issue send --dry-run` found: who would be mailed, with every copy built in memory."""

    id: int
    state: IssueState
    would_send: int
    copies_built: int
    would_skip: int = 0  # readers whose sections have nothing this issue

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "state": str(self.state),
            "dry_run": True,
            "would_send": self.would_send,
            "copies_built": self.copies_built,
            "would_skip": self.would_skip,
        }


def dry_run(
    issue_id: int,
    *,
    issues: IssueRepository,
    deliveries: DeliveryRepository,
    subscribers: SubscriberRepository,
    render: Render,
    unsubscribe_url: Callable[[int], str],
    sender: Sender,
) -> DryRun:
    """Build every copy through the memory provider; the ledger and the issue stay untouched.

    Before sending starts the audience is the active subscribers; once started, the rows still
    pending (counted only: their copies are built when they go).
    """
    issue = sendable_issue(issues, issue_id)
    if not can_start_sending(issue.state):
        pending = deliveries.status(issue_id, issue.state).pending
        return DryRun(issue_id, issue.state, would_send=pending, copies_built=0)
    # One render per segment (readers' sections), as the send makes them; None: skipped.
    messages: dict[str, RenderedMessage | None] = {EVERYTHING: render_for_sending(render, issue)}
    provider = MemoryProvider(sender=sender, batch_size=100)
    built = skipped = 0
    batches: dict[str, list[Recipient]] = {}
    for subscriber in subscribers.iter(SubscriberStatus.ACTIVE):
        key = segment_key(subscriber.sections)
        if key not in messages:
            part = for_segment(issue, key)
            messages[key] = render_for_sending(render, part) if part.items else None
        message = messages[key]
        if message is None:
            skipped += 1
            continue
        batch = batches.setdefault(key, [])
        batch.append(
            Recipient(
                0, subscriber.id, subscriber.email, subscriber.name, unsubscribe_url(subscriber.id)
            )
        )
        if len(batch) == provider.batch_size:
            built += _build_in_memory(provider, message, batch)
            batch.clear()
    for key, batch in batches.items():
        message = messages[key]
        assert message is not None
        built += _build_in_memory(provider, message, batch)
    return DryRun(issue_id, issue.state, would_send=built, copies_built=built, would_skip=skipped)


def _build_in_memory(
    provider: MemoryProvider, message: RenderedMessage, batch: list[Recipient]
) -> int:
    if not batch:
        return 0
    provider.send_batch(message, batch)
    built = len(provider.sent)
    provider.sent.clear()  # bounded memory: the copies were built, nothing keeps them
    return built
