"""Provider events: each applied once (its id is kept), opens and clicks counted per issue.

A webhook request is applied set-based in one transaction: the new events are those a bulk
INSERT ... ON CONFLICT DO NOTHING keeps (the unique event id), then the ledger and the list
change in a few bulk statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Connection, bindparam, distinct, func, or_, select

from newsletter.domain.delivery import DeliveryState, EventAction, ProviderEvent
from newsletter.domain.links import without_utm
from newsletter.domain.readers import SubscriberStatus
from newsletter.store.delivery_rows import count_by
from newsletter.store.dialect import among, insert_ignore_many, write_lock
from newsletter.store.engine import Repository
from newsletter.store.leaving import leave_lists, strongest
from newsletter.store.reader_tables import clicks, deliveries, provider_events, subscribers
from newsletter.store.tables import articles, issue_items, issues

_LEAVING = {
    EventAction.BOUNCED: SubscriberStatus.BOUNCED,
    EventAction.COMPLAINED: SubscriberStatus.COMPLAINED,
    EventAction.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
}


class _Delivery(NamedTuple):
    id: int
    issue_id: int
    subscriber_id: int | None


class EventRepository(Repository):
    def apply_all(self, events: Sequence[ProviderEvent], now: datetime) -> int:
        """Apply a request's events in one transaction, each once: a few statements for the
        whole set, whatever its size. Returns how many were new; the others (replays, or an id
        repeated within the request) change nothing.

        The outcome does not depend on the events' order: delivered only resolves an uncertain
        delivery, a hard bounce fails an uncertain or sent one (the first bounce's reason is
        kept), and a subscriber takes the strongest status asked of it.
        """
        firsts: dict[str, ProviderEvent] = {}
        for event in events:
            firsts.setdefault(event.event_id[:200], event)
        if not firsts:
            return 0
        with write_lock(self.engine), self.engine.begin() as connection:
            found = _deliveries(connection, {e.delivery_id for e in firsts.values()})
            known = _known_issues(
                connection, {e.issue_id for e in firsts.values() if e.delivery_id not in found}
            )
            rows = [_row(key, event, found, known, now) for key, event in sorted(firsts.items())]
            recorded = set(insert_ignore_many(connection, provider_events, rows, "event_id"))
            new = [event for key, event in firsts.items() if key in recorded]
            _resolve(connection, new, found, now)
            _leave(connection, new, found, now)
            _record_clicks(connection, new, found, now)
        return len(recorded)

    def counts(self, issue_id: int) -> dict[str, int]:
        """Per event kind: how many events, e.g. {"open": 12, "click": 3}."""
        with self.engine.connect() as connection:
            found = count_by(
                connection, provider_events.c.kind, provider_events.c.issue_id == issue_id
            )
        return {str(kind): n for kind, n in found.items()}

    def unique_counts(self, issue_id: int) -> dict[str, int]:
        """Per event kind: how many distinct deliveries (recipients) had one."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(provider_events.c.kind, func.count(distinct(provider_events.c.delivery_id)))
                .where(provider_events.c.issue_id == issue_id)
                .group_by(provider_events.c.kind)
            ).all()
        return {str(kind): int(n) for kind, n in rows}


def _deliveries(connection: Connection, ids: set[int | None]) -> dict[int, _Delivery]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return {}
    rows = connection.execute(
        select(deliveries.c.id, deliveries.c.issue_id, deliveries.c.subscriber_id).where(
            among(connection, deliveries.c.id, wanted)
        )
    )
    return {row.id: _Delivery(row.id, row.issue_id, row.subscriber_id) for row in rows}


def _known_issues(connection: Connection, ids: set[int | None]) -> set[int]:
    wanted = sorted(i for i in ids if i is not None)
    if not wanted:
        return set()
    return set(
        connection.execute(
            select(issues.c.id).where(among(connection, issues.c.id, wanted))
        ).scalars()
    )


def _row(
    key: str,
    event: ProviderEvent,
    found: dict[int, _Delivery],
    known: set[int],
    now: datetime,
) -> dict[str, object]:
    """The event's line in the log: its issue comes from its delivery, else from its own id
    when that issue exists."""
    delivery = found.get(event.delivery_id) if event.delivery_id is not None else None
    issue_id = event.issue_id if event.issue_id in known else None
    return {
        "event_id": key,
        "kind": event.kind[:30],
        "issue_id": delivery.issue_id if delivery else issue_id,
        "delivery_id": delivery.id if delivery else None,
        "received_at": now,
    }


def _resolve(
    connection: Connection,
    new: list[ProviderEvent],
    found: dict[int, _Delivery],
    now: datetime,
) -> None:
    """Delivered: uncertain deliveries were sent. Hard bounces: uncertain or sent ones failed."""
    sent = sorted(
        {e.delivery_id for e in new if e.action is EventAction.DELIVERED and e.delivery_id in found}
    )
    if sent:
        connection.execute(
            deliveries.update()
            .where(
                among(connection, deliveries.c.id, sent),
                deliveries.c.state == DeliveryState.UNCERTAIN,
            )
            .values(state=DeliveryState.SENT, updated_at=now)
        )
    bounced = [
        {"bounced_id": e.delivery_id, "bounce_error": (e.reason or e.kind)[:1000]}
        for e in new
        if e.action is EventAction.BOUNCED and e.delivery_id in found
    ]
    if bounced:
        # In the request's order: a second bounce finds the delivery failed and keeps the first
        # reason.
        connection.execute(
            deliveries.update()
            .where(
                deliveries.c.id == bindparam("bounced_id"),
                # Not IN (...): an executemany takes no expanding parameter.
                or_(
                    deliveries.c.state == DeliveryState.UNCERTAIN,
                    deliveries.c.state == DeliveryState.SENT,
                ),
            )
            .values(state=DeliveryState.FAILED, updated_at=now, error=bindparam("bounce_error")),
            bounced,
        )


def _leave(
    connection: Connection,
    new: list[ProviderEvent],
    found: dict[int, _Delivery],
    now: datetime,
) -> None:
    """Bounces, spam reports and unsubscriptions take their subscriber off the list: through
    the delivery's subscriber, else by address (transactional emails carry no ledger id)."""
    wanted: dict[int, list[SubscriberStatus]] = defaultdict(list)
    by_address: dict[str, list[SubscriberStatus]] = defaultdict(list)
    for event in new:
        status = _LEAVING.get(event.action)
        if status is None:
            continue
        delivery = found.get(event.delivery_id) if event.delivery_id is not None else None
        if delivery and delivery.subscriber_id is not None:
            wanted[delivery.subscriber_id].append(status)
        elif event.email:
            by_address[event.email].append(status)
    if by_address:
        rows = connection.execute(
            select(subscribers.c.id, subscribers.c.email).where(
                among(connection, subscribers.c.email, sorted(by_address))
            )
        )
        for row in rows:
            wanted[row.id].extend(by_address[row.email])
    if wanted:
        leave_lists(connection, {sid: strongest(s) for sid, s in wanted.items()}, now)


def _record_clicks(
    connection: Connection, new: list[ProviderEvent], found: dict[int, _Delivery], now: datetime
) -> None:
    """The provider's clicks into the clicks table, those on one of the delivery's issue's
    articles (named by our /c/ link, or by its own URL when our links are not tracked)."""
    wanted = [
        (event, found[event.delivery_id])
        for event in new
        if event.kind == "click" and event.delivery_id in found
    ]
    if not wanted:
        return
    issue_ids = sorted({delivery.issue_id for _, delivery in wanted})
    articles_of: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    query = (
        select(issue_items.c.issue_id, articles.c.id, articles.c.url)
        .join(articles, articles.c.id == issue_items.c.article_id)
        .where(among(connection, issue_items.c.issue_id, issue_ids))
    )
    for issue_id, article_id, url in connection.execute(query):
        articles_of[issue_id].append((article_id, url, without_utm(url)))
    rows = []
    for event, delivery in wanted:
        clicked = without_utm(event.url) if event.url else None
        match = next(
            (
                (article_id, url)
                for article_id, url, plain in articles_of[delivery.issue_id]
                if article_id == event.article_id
                or (event.article_id is None and clicked is not None and plain == clicked)
            ),
            None,
        )
        if match is not None:
            rows.append(
                {
                    "issue_id": delivery.issue_id,
                    "delivery_id": delivery.id,
                    "subscriber_id": delivery.subscriber_id,
                    "article_id": match[0],
                    "url": match[1],
                    "source": "sendgrid",
                    "clicked_at": now,
                }
            )
    if rows:
        connection.execute(clicks.insert(), rows)
