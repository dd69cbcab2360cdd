"""Provider events: each applied once (its id is kept), opens and clicks counted per issue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, distinct, func, select

from newsletter.domain.links import without_utm
from newsletter.domain.model import DeliveryState, EventAction, ProviderEvent, SubscriberStatus
from newsletter.store.deliveries import count_by, move_deliveries
from newsletter.store.dialect import insert_ignore
from newsletter.store.engine import Repository
from newsletter.store.subscribers import leave_list
from newsletter.store.tables import (
    articles,
    clicks,
    deliveries,
    issue_items,
    issues,
    provider_events,
    subscribers,
)

_LEAVING = {
    EventAction.BOUNCED: SubscriberStatus.BOUNCED,
    EventAction.COMPLAINED: SubscriberStatus.COMPLAINED,
    EventAction.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
}


class EventRepository(Repository):
    def apply(self, event: ProviderEvent, now: datetime) -> bool:
        """Apply the event in one transaction; False when it was applied before (a replay)."""
        with self.engine.begin() as connection:
            delivery = None
            if event.delivery_id is not None:
                delivery = connection.execute(
                    select(
                        deliveries.c.id, deliveries.c.issue_id, deliveries.c.subscriber_id
                    ).where(deliveries.c.id == event.delivery_id)
                ).first()
            issue_id = delivery.issue_id if delivery else _known_issue(connection, event.issue_id)
            recorded = connection.execute(
                insert_ignore(connection, provider_events)
                .values(
                    event_id=event.event_id[:200],
                    kind=event.kind[:30],
                    issue_id=issue_id,
                    delivery_id=delivery.id if delivery else None,
                    received_at=now,
                )
                .returning(provider_events.c.id)
            ).scalar()
            if recorded is None:
                return False
            if event.kind == "click" and delivery:
                _record_click(connection, event, delivery.id, delivery.issue_id, now)
            if event.action is EventAction.DELIVERED and delivery:
                uncertain = (
                    deliveries.c.id == delivery.id,
                    deliveries.c.state == DeliveryState.UNCERTAIN,
                )
                move_deliveries(connection, DeliveryState.SENT, now, uncertain)
            leaving = _LEAVING.get(event.action)
            if leaving is None:
                return True
            if event.action is EventAction.BOUNCED and delivery:
                went = (
                    deliveries.c.id == delivery.id,
                    deliveries.c.state.in_([DeliveryState.UNCERTAIN, DeliveryState.SENT]),
                )
                error = (event.reason or event.kind)[:1000]
                move_deliveries(connection, DeliveryState.FAILED, now, went, error=error)
            subscriber_id = delivery.subscriber_id if delivery else None
            if subscriber_id is None and event.email:
                subscriber_id = connection.execute(
                    select(subscribers.c.id).where(subscribers.c.email == event.email)
                ).scalar()
            if subscriber_id is not None:
                leave_list(connection, int(subscriber_id), leaving, now)
        return True

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


def _known_issue(connection: Connection, issue_id: int | None) -> int | None:
    if issue_id is None:
        return None
    found = connection.execute(select(issues.c.id).where(issues.c.id == issue_id)).scalar()
    return int(found) if found is not None else None


def _record_click(
    connection: Connection, event: ProviderEvent, delivery_id: int, issue_id: int, now: datetime
) -> None:
    """A provider's click into the clicks table, when it is on one of the issue's articles
    (named by our /c/ link, or by its own URL when our links are not tracked)."""
    query = (
        select(articles.c.id, articles.c.url, deliveries.c.subscriber_id)
        .join(issue_items, issue_items.c.article_id == articles.c.id)
        .join(deliveries, deliveries.c.issue_id == issue_items.c.issue_id)
        .where(issue_items.c.issue_id == issue_id, deliveries.c.id == delivery_id)
    )
    rows = connection.execute(query).all()
    if event.article_id is not None:
        found = [row for row in rows if row.id == event.article_id]
    elif event.url:
        clicked = without_utm(event.url)
        found = [row for row in rows if without_utm(row.url) == clicked]
    else:
        return
    if not found:
        return
    row = found[0]
    connection.execute(
        clicks.insert().values(
            issue_id=issue_id,
            delivery_id=delivery_id,
            subscriber_id=row.subscriber_id,
            article_id=row.id,
            url=row.url,
            source="sendgrid",
            clicked_at=now,
        )
    )
