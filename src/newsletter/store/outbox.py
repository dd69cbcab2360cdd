"""The outbox of transactional emails (confirmation, welcome).

A row is written in the same transaction as the state change that owes the email, so an email
is never lost to a crash between the two. Workers claim rows with a lease (`not_before`): a
worker that dies mid-send leaves a row another worker takes again once the lease has expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, delete, func, or_, select

from newsletter.domain.model import SubscriberStatus
from newsletter.store.dialect import insert_ignore, write_lock
from newsletter.store.engine import Repository
from newsletter.store.tables import outbox as outbox_table
from newsletter.store.tables import subscribers

CONFIRM = "confirm"
WELCOME = "welcome"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    subscriber_id: int
    email: str
    name: str | None
    status: SubscriberStatus
    attempts: int


def enqueue(connection: Connection, kind: str, subscriber_id: int, now: datetime) -> None:
    """Owe `kind` to the subscriber, inside the caller's transaction (once per kind)."""
    connection.execute(
        insert_ignore(connection, outbox_table).values(
            kind=kind, subscriber_id=subscriber_id, created_at=now
        )
    )


class OutboxRepository(Repository):
    def enqueue(self, kind: str, subscriber_id: int, now: datetime) -> None:
        with self.engine.begin() as connection:
            enqueue(connection, kind, subscriber_id, now)

    def claim(self, now: datetime, lease: timedelta, limit: int = 100) -> list[OutboxItem]:
        """Take up to `limit` due rows for this worker until `now + lease`."""
        due = or_(outbox_table.c.not_before.is_(None), outbox_table.c.not_before <= now)
        with write_lock(self.engine), self.engine.begin() as connection:
            ids = list(
                connection.execute(
                    select(outbox_table.c.id).where(due).order_by(outbox_table.c.id).limit(limit)
                ).scalars()
            )
            if not ids:
                return []
            claimed = list(
                connection.execute(
                    outbox_table.update()
                    .where(outbox_table.c.id.in_(ids), due)
                    .values(not_before=now + lease, attempts=outbox_table.c.attempts + 1)
                    .returning(outbox_table.c.id)
                ).scalars()
            )
            if not claimed:
                return []
            rows = connection.execute(
                select(
                    outbox_table.c.id,
                    outbox_table.c.kind,
                    outbox_table.c.subscriber_id,
                    outbox_table.c.attempts,
                    subscribers.c.email,
                    subscribers.c.name,
                    subscribers.c.status,
                )
                .join(subscribers, subscribers.c.id == outbox_table.c.subscriber_id)
                .where(outbox_table.c.id.in_(claimed))
                .order_by(outbox_table.c.id)
            ).all()
        return [
            OutboxItem(
                id=row.id,
                kind=row.kind,
                subscriber_id=row.subscriber_id,
                email=row.email,
                name=row.name,
                status=SubscriberStatus(row.status),
                attempts=row.attempts,
            )
            for row in rows
        ]

    def done(self, ids: Sequence[int]) -> None:
        if ids:
            with write_lock(self.engine), self.engine.begin() as connection:
                connection.execute(delete(outbox_table).where(outbox_table.c.id.in_(list(ids))))

    def retry_at(self, item_id: int, when: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                outbox_table.update().where(outbox_table.c.id == item_id).values(not_before=when)
            )

    def count(self) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(outbox_table)
            return int(connection.execute(query).scalar_one())
