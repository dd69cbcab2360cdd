"""One subscriber as the desk shows them: their history (consent, copies sent, provider events)
and the one field an editor corrects by hand, the name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from newsletter.store.reader_tables import deliveries, provider_events, subscribers
from newsletter.store.tables import issues


@dataclass(frozen=True)
class Copy:
    """One issue sent (or meant) to the subscriber."""

    issue_id: int
    number: int
    subject: str
    state: str
    at: datetime | None


@dataclass(frozen=True)
class Event:
    """A provider event about one of the subscriber's copies (open, click, bounce...)."""

    kind: str
    number: int | None
    at: datetime


class PeopleQueries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def copies(self, subscriber_id: int, limit: int = 200) -> list[Copy]:
        query = (
            select(
                issues.c.id,
                issues.c.number,
                issues.c.subject,
                deliveries.c.state,
                deliveries.c.updated_at,
            )
            .join(issues, issues.c.id == deliveries.c.issue_id)
            .where(deliveries.c.subscriber_id == subscriber_id)
            .order_by(deliveries.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [Copy(*row) for row in connection.execute(query)]

    def events(self, subscriber_id: int, limit: int = 200) -> list[Event]:
        query = (
            select(provider_events.c.kind, issues.c.number, provider_events.c.received_at)
            .join(deliveries, deliveries.c.id == provider_events.c.delivery_id)
            .outerjoin(issues, issues.c.id == provider_events.c.issue_id)
            .where(deliveries.c.subscriber_id == subscriber_id)
            .order_by(provider_events.c.received_at.desc(), provider_events.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [Event(*row) for row in connection.execute(query)]

    def rename(self, subscriber_id: int, name: str | None) -> bool:
        with self.engine.begin() as connection:
            changed = connection.execute(
                subscribers.update().where(subscribers.c.id == subscriber_id).values(name=name)
            )
            return bool(changed.rowcount)
