"""Subscribers, their consent, and the suppression list of erased addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Engine, RowMapping, func, select
from sqlalchemy.exc import IntegrityError

from newsletter.model import Subscriber, SubscriberStatus
from newsletter.store.tables import subscribers, suppressions


def email_hash(email: str) -> str:
    """What is kept of an erased address: enough to refuse it again, not to read it."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class SubscriberRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(
        self,
        email: str,
        name: str | None,
        status: SubscriberStatus,
        now: datetime,
        *,
        consent_ip: str | None = None,
        consent_source: str | None = None,
        consent_text: str | None = None,
    ) -> tuple[Subscriber, bool]:
        """Insert the subscriber, or return the existing one; the flag says whether it is new."""
        values: dict[str, object] = {
            "email": email,
            "name": name,
            "status": status,
            "created_at": now,
            "consent_at": now,
            "consent_ip": consent_ip,
            "consent_source": consent_source,
            "consent_text": consent_text,
        }
        if status is SubscriberStatus.ACTIVE:
            values["confirmed_at"] = now
        try:
            with self.engine.begin() as connection:
                connection.execute(subscribers.insert().values(**values))
            created = True
        except IntegrityError:
            created = False
        found = self.by_email(email)
        assert found is not None
        return found, created

    def by_email(self, email: str) -> Subscriber | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(subscribers).where(subscribers.c.email == email))
                .mappings()
                .first()
            )
        return _subscriber(row) if row else None

    def get(self, subscriber_id: int) -> Subscriber | None:
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(subscribers).where(subscribers.c.id == subscriber_id))
                .mappings()
                .first()
            )
        return _subscriber(row) if row else None

    def set_status(
        self, subscriber_id: int, status: SubscriberStatus, now: datetime
    ) -> Subscriber | None:
        values: dict[str, object] = {"status": status}
        if status is SubscriberStatus.ACTIVE:
            values["confirmed_at"] = now
        elif status is SubscriberStatus.UNSUBSCRIBED:
            values["unsubscribed_at"] = now
        with self.engine.begin() as connection:
            connection.execute(
                subscribers.update().where(subscribers.c.id == subscriber_id).values(**values)
            )
        return self.get(subscriber_id)

    def iter(
        self, status: SubscriberStatus | None = None, chunk: int = 1000
    ) -> Iterator[Subscriber]:
        """Every subscriber in id order, read in chunks so a large list never sits in memory."""
        last_id = 0
        while True:
            query = select(subscribers).where(subscribers.c.id > last_id)
            if status is not None:
                query = query.where(subscribers.c.status == status)
            with self.engine.connect() as connection:
                rows = connection.execute(query.order_by(subscribers.c.id).limit(chunk)).mappings()
                page = [_subscriber(row) for row in rows]
            if not page:
                return
            yield from page
            last_id = page[-1].id

    def count(self, status: SubscriberStatus | None = None) -> int:
        query = select(func.count()).select_from(subscribers)
        if status is not None:
            query = query.where(subscribers.c.status == status)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def erase(self, email: str, now: datetime) -> bool:
        """Delete the subscriber's personal data; keep a hash so the address stays suppressed."""
        with self.engine.begin() as connection:
            deleted = connection.execute(subscribers.delete().where(subscribers.c.email == email))
            digest = email_hash(email)
            known = connection.execute(
                select(suppressions.c.id).where(suppressions.c.email_hash == digest)
            ).first()
            if not known:
                connection.execute(
                    suppressions.insert().values(email_hash=digest, reason="erased", created_at=now)
                )
        return deleted.rowcount > 0

    def is_suppressed(self, email: str) -> bool:
        with self.engine.connect() as connection:
            return (
                connection.execute(
                    select(suppressions.c.id).where(suppressions.c.email_hash == email_hash(email))
                ).first()
                is not None
            )


def _subscriber(row: RowMapping) -> Subscriber:
    return Subscriber(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        status=SubscriberStatus(row["status"]),
        created_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
    )
