"""The outbox of transactional emails (confirmation, welcome).

A row is written in the same transaction as the state change that owes the email, so an email
is never lost to a crash between the two. Workers claim rows with a lease (`not_before`) under
their name (`worker`), and mark a row `in_flight` just before handing it to the provider. When
a worker is known dead (`release`), the rows it never handed over are due again at once, and
those it had in flight are dropped: their answer was lost, they may have gone, and an email is
never sent twice (as when a provider reports an answer lost). A claim whose holder cannot be
known dead (another host) is taken again once its lease has expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select

from newsletter.domain.readers import SubscriberStatus
from newsletter.store.dialect import insert_ignore, write_lock
from newsletter.store.engine import Repository
from newsletter.store.reader_tables import outbox as outbox_table
from newsletter.store.reader_tables import subscribers

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


_ITEM_COLUMNS = (
    outbox_table.c.id,
    outbox_table.c.kind,
    outbox_table.c.subscriber_id,
    outbox_table.c.attempts,
    subscribers.c.email,
    subscribers.c.name,
    subscribers.c.status,
)


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        kind=row.kind,
        subscriber_id=row.subscriber_id,
        email=row.email,
        name=row.name,
        status=SubscriberStatus(row.status),
        attempts=row.attempts,
    )


class OutboxRepository(Repository):
    def enqueue(self, kind: str, subscriber_id: int, now: datetime) -> None:
        with self.engine.begin() as connection:
            enqueue(connection, kind, subscriber_id, now)

    def claim(
        self, now: datetime, lease: timedelta, worker: str, limit: int = 100
    ) -> list[OutboxItem]:
        """Take up to `limit` due rows for `worker` until `now + lease`."""
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
                    .values(
                        not_before=now + lease,
                        attempts=outbox_table.c.attempts + 1,
                        worker=worker,
                        in_flight=False,
                    )
                    .returning(outbox_table.c.id)
                ).scalars()
            )
            if not claimed:
                return []
            rows = connection.execute(
                select(*_ITEM_COLUMNS)
                .join(subscribers, subscribers.c.id == outbox_table.c.subscriber_id)
                .where(outbox_table.c.id.in_(claimed))
                .order_by(outbox_table.c.id)
            ).all()
        return [_item(row) for row in rows]

    def done(self, ids: Sequence[int]) -> None:
        if ids:
            with write_lock(self.engine), self.engine.begin() as connection:
                connection.execute(delete(outbox_table).where(outbox_table.c.id.in_(list(ids))))

    def in_flight(self, item_id: int) -> None:
        """The claimed row is about to be handed to the provider: from now on, it may have gone."""
        with write_lock(self.engine), self.engine.begin() as connection:
            connection.execute(
                outbox_table.update().where(outbox_table.c.id == item_id).values(in_flight=True)
            )

    def retry_at(self, item_id: int, when: datetime) -> None:
        """The provider did not take it: due again at `when`, for any worker."""
        with self.engine.begin() as connection:
            connection.execute(
                outbox_table.update()
                .where(outbox_table.c.id == item_id)
                .values(not_before=when, worker=None, in_flight=False)
            )

    def claim_holders(self) -> list[str]:
        """The workers holding claims (their lease expired or not)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox_table.c.worker).where(outbox_table.c.worker.is_not(None)).distinct()
            ).scalars()
            return [str(worker) for worker in rows]

    def release(self, workers: Sequence[str]) -> tuple[list[OutboxItem], list[OutboxItem]]:
        """Settle the claims of these dead workers: rows never handed to the provider are due
        at once, rows in flight are dropped. Returns (released, dropped)."""
        if not workers:
            return [], []
        held = outbox_table.c.worker.in_(list(workers))
        with write_lock(self.engine), self.engine.begin() as connection:
            rows = [
                (row, bool(row.in_flight))
                for row in connection.execute(
                    select(*_ITEM_COLUMNS, outbox_table.c.in_flight)
                    .join(subscribers, subscribers.c.id == outbox_table.c.subscriber_id)
                    .where(held)
                ).all()
            ]
            dropped = [_item(row) for row, in_flight in rows if in_flight]
            released = [_item(row) for row, in_flight in rows if not in_flight]
            if dropped:
                connection.execute(
                    delete(outbox_table).where(outbox_table.c.id.in_([i.id for i in dropped]))
                )
            if released:
                connection.execute(
                    outbox_table.update()
                    .where(outbox_table.c.id.in_([i.id for i in released]))
                    .values(not_before=None, worker=None)
                )
        return released, dropped

    def count(self) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(outbox_table)
            return int(connection.execute(query).scalar_one())
