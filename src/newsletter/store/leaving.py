"""Addresses leaving the list (unsubscribed, bounced, complained): a weaker status never
replaces a stronger one, and their owed emails go. Shared by the subscriber repository and the
provider events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, delete

from newsletter.domain.readers import SubscriberStatus
from newsletter.store.reader_tables import outbox, subscribers

# How strongly a status keeps an address off the list: a weaker one never replaces a stronger.
LEAVING_RANK = {
    SubscriberStatus.PENDING: 0,
    SubscriberStatus.ACTIVE: 0,
    SubscriberStatus.UNSUBSCRIBED: 1,
    SubscriberStatus.BOUNCED: 2,
    SubscriberStatus.COMPLAINED: 3,
}


def leave_list(
    connection: Connection, subscriber_id: int, status: SubscriberStatus, now: datetime
) -> bool:
    return bool(leave_lists(connection, {subscriber_id: status}, now))


def leave_lists(
    connection: Connection, leaving: dict[int, SubscriberStatus], now: datetime
) -> set[int]:
    """Each subscriber takes its status unless it already has one as strong: a statement per
    status, not per subscriber. Their owed emails go. Returns the subscribers that changed."""
    changed: set[int] = set()
    for status in set(leaving.values()):
        ids = sorted(sid for sid, wanted in leaving.items() if wanted is status)
        weaker = [s for s, rank in LEAVING_RANK.items() if rank < LEAVING_RANK[status]]
        changed.update(
            connection.execute(
                subscribers.update()
                .where(subscribers.c.id.in_(ids), subscribers.c.status.in_(weaker))
                .values(status=status, unsubscribed_at=now)
                .returning(subscribers.c.id)
            ).scalars()
        )
    if changed:
        connection.execute(delete(outbox).where(outbox.c.subscriber_id.in_(sorted(changed))))
    return changed


def strongest(statuses: Iterable[SubscriberStatus]) -> SubscriberStatus:
    """The status that keeps an address off the list most firmly."""
    return max(statuses, key=LEAVING_RANK.__getitem__)
