"""Subscribers, their consent, and the suppression list of erased addresses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from newsletter.domain.readers import ConsentMethod, ConsentRecord, Subscriber, SubscriberStatus
from newsletter.domain.segments import segment_key, segment_sections
from newsletter.store.dialect import insert_ignore, write_lock
from newsletter.store.engine import Repository
from newsletter.store.leaving import LEAVING_RANK, leave_list
from newsletter.store.outbox import CONFIRM, WELCOME, enqueue
from newsletter.store.reader_tables import clicks, deliveries, subscribers, suppressions
from newsletter.store.subscriber_rows import CONSENT_COLUMNS, consent_values, to_subscriber
from newsletter.store.tables import issues


class SignupOutcome(StrEnum):
    CREATED = "created"  # a new pending subscriber, a confirmation is owed
    RESENT = "resent"  # known but not active: a fresh confirmation is owed
    NOTHING = "nothing"  # already active, or a confirmation went out less than a while ago


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"
    REFUSED = "refused"  # unknown subscriber, or a link older than the address leaving the list


def email_hash(email: str) -> str:
    """What is kept of an erased address: enough to refuse it again, not to read it."""
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


class SubscriberRepository(Repository):
    def add(
        self,
        email: str,
        name: str | None,
        status: SubscriberStatus,
        now: datetime,
        *,
        consent: ConsentRecord | None = None,
        sections: tuple[str, ...] = (),
    ) -> tuple[Subscriber, bool]:
        """Insert the subscriber, or return the existing one; the flag says whether it is new.

        A pending subscriber with a `consent` is owed a confirmation email, written with it.
        """
        values: dict[str, object] = {
            "email": email,
            "name": name,
            "status": status,
            "created_at": now,
            "sections": segment_key(sections) or None,
            **(consent_values(consent) if consent else {"consent_at": now}),
        }
        if status is SubscriberStatus.ACTIVE:
            values["confirmed_at"] = now
        owes_confirmation = consent is not None and status is SubscriberStatus.PENDING
        if owes_confirmation:
            values["confirmation_sent_at"] = now
        try:
            with self.engine.begin() as connection:
                created = connection.execute(
                    subscribers.insert().values(**values).returning(subscribers.c.id)
                ).scalar_one()
                if owes_confirmation:
                    enqueue(connection, CONFIRM, int(created), now)
            created_now = True
        except IntegrityError:
            created_now = False
        found = self.by_email(email)
        assert found is not None
        return found, created_now

    def by_email(self, email: str) -> Subscriber | None:
        return self._one(subscribers.c.email == email)

    def get(self, subscriber_id: int) -> Subscriber | None:
        return self._one(subscribers.c.id == subscriber_id)

    def _one(self, where: ColumnElement[bool]) -> Subscriber | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(subscribers).where(where)).mappings().first()
        return to_subscriber(row) if row else None

    def set_status(
        self, subscriber_id: int, status: SubscriberStatus, now: datetime
    ) -> Subscriber | None:
        values: dict[str, object] = {"status": status}
        if status is SubscriberStatus.ACTIVE:
            values["confirmed_at"] = now
        elif LEAVING_RANK[status] > 0:
            values["unsubscribed_at"] = now  # when the address left the list, for any reason
        with self.engine.begin() as connection:
            connection.execute(
                subscribers.update().where(subscribers.c.id == subscriber_id).values(**values)
            )
        return self.get(subscriber_id)

    def set_sections(self, subscriber_id: int, sections: tuple[str, ...]) -> bool:
        """The reader's choice of sections (() = every section); False if no such reader."""
        with self.engine.begin() as connection:
            changed = connection.execute(
                subscribers.update()
                .where(subscribers.c.id == subscriber_id)
                .values(sections=segment_key(sections) or None)
            ).rowcount
        return bool(changed)

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
                page = [to_subscriber(row) for row in rows]
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
            found = connection.execute(
                select(subscribers.c.id).where(subscribers.c.email == email)
            ).scalar()
            if found is not None:  # the foreign key cascades too; SQLite may run without it
                connection.execute(clicks.delete().where(clicks.c.subscriber_id == found))
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

    def request(
        self,
        email: str,
        name: str | None,
        now: datetime,
        *,
        resend_before: datetime,
        consent_ip: str | None,
        consent_source: str,
        consent_text: str,
        sections: tuple[str, ...] | None = None,
    ) -> SignupOutcome:
        """A sign-up request: one write transaction, whatever the address's standing.

        New address: a pending subscriber owed a confirmation. Known but not active (pending,
        unsubscribed, bounced, complained): a fresh confirmation is owed unless one was asked
        for after `resend_before`; the status itself does not change until the link is
        followed. Active: nothing. The consent fields record the latest request; so do the
        name and `sections` when given (() = every section), but only for an address never
        confirmed (pending): anyone can post a sign-up for an address that left the list, and
        what its owner had confirmed (their name, their sections) is theirs to change, through
        the preferences page, not a stranger's.
        """
        consent = consent_values(
            ConsentRecord(
                method=ConsentMethod.SIGN_UP,
                recorded_at=now,
                given_at=now,
                source=consent_source,
                ip=consent_ip,
                text=consent_text,
            )
        )
        chosen = segment_key(sections or ()) or None  # NULL: every section
        with write_lock(self.engine), self.engine.begin() as connection:
            created = connection.execute(
                insert_ignore(connection, subscribers)
                .values(
                    email=email,
                    name=name,
                    status=SubscriberStatus.PENDING,
                    created_at=now,
                    confirmation_sent_at=now,
                    sections=chosen,
                    **consent,
                )
                .returning(subscribers.c.id)
            ).scalar()
            if created is not None:
                enqueue(connection, CONFIRM, int(created), now)
                return SignupOutcome.CREATED
            known = connection.execute(
                subscribers.update()
                .where(
                    subscribers.c.email == email,
                    subscribers.c.status != SubscriberStatus.ACTIVE,
                    or_(
                        subscribers.c.confirmation_sent_at.is_(None),
                        subscribers.c.confirmation_sent_at < resend_before,
                    ),
                )
                .values(
                    confirmation_sent_at=now,
                    name=(
                        subscribers.c.name
                        if name is None
                        else _if_pending(name, subscribers.c.name)
                    ),
                    sections=(
                        subscribers.c.sections
                        if sections is None
                        else _if_pending(chosen, subscribers.c.sections)
                    ),
                    **consent,
                )
                .returning(subscribers.c.id)
            ).scalar()
            if known is not None:
                enqueue(connection, CONFIRM, int(known), now)
                return SignupOutcome.RESENT
        return SignupOutcome.NOTHING

    def confirm(self, subscriber_id: int, issued_at: datetime, now: datetime) -> ConfirmOutcome:
        """Activate on a confirmation link; a welcome email is owed.

        A link issued before the address left the list (unsubscribed, bounced, complained)
        does not bring it back: only a link asked for afterwards does. Confirming lifts the
        suppression of an address erased earlier: its owner has just consented again.
        """
        with self.engine.begin() as connection:
            row = connection.execute(
                select(
                    subscribers.c.email, subscribers.c.status, subscribers.c.unsubscribed_at
                ).where(subscribers.c.id == subscriber_id)
            ).first()
            if row is None:
                return ConfirmOutcome.REFUSED
            status = SubscriberStatus(row.status)
            if status is SubscriberStatus.ACTIVE:
                return ConfirmOutcome.ALREADY
            left_at = row.unsubscribed_at
            if (
                status is not SubscriberStatus.PENDING
                and left_at is not None
                and int(issued_at.timestamp()) < int(left_at.timestamp())
            ):
                return ConfirmOutcome.REFUSED
            changed = connection.execute(
                subscribers.update()
                .where(subscribers.c.id == subscriber_id, subscribers.c.status == status)
                .values(status=SubscriberStatus.ACTIVE, confirmed_at=now)
            ).rowcount
            if changed != 1:
                return ConfirmOutcome.ALREADY
            connection.execute(
                delete(suppressions).where(suppressions.c.email_hash == email_hash(row.email))
            )
            enqueue(connection, WELCOME, subscriber_id, now)
        return ConfirmOutcome.CONFIRMED

    def unsubscribe(self, subscriber_id: int, now: datetime) -> bool:
        """Pending or active -> unsubscribed, and no email is owed any more. False if neither."""
        with self.engine.begin() as connection:
            return leave_list(connection, subscriber_id, SubscriberStatus.UNSUBSCRIBED, now)

    def leave(self, subscriber_id: int, status: SubscriberStatus, now: datetime) -> bool:
        """Move to a leaving status unless the address already stands off the list more firmly."""
        with self.engine.begin() as connection:
            return leave_list(connection, subscriber_id, status, now)

    def resubscribe(
        self, subscriber_id: int, consent: ConsentRecord, now: datetime, *, pending: bool
    ) -> None:
        """Bring back an address that left, on an importer's word (`--force-resubscribe`).

        The new consent record replaces the old one. Pending: a confirmation email is owed and
        the status changes only when its owner confirms; else active at once.
        """
        values = consent_values(consent)
        if not pending:
            values.update(status=SubscriberStatus.ACTIVE, confirmed_at=now)
        else:
            values["confirmation_sent_at"] = now
        with self.engine.begin() as connection:
            connection.execute(
                subscribers.update().where(subscribers.c.id == subscriber_id).values(**values)
            )
            if pending:
                enqueue(connection, CONFIRM, subscriber_id, now)

    def purge_pending(self, created_before: datetime) -> int:
        """Erase sign-ups still pending whose latest request is older than `created_before`."""
        last_request = func.coalesce(
            subscribers.c.consent_recorded_at, subscribers.c.consent_at, subscribers.c.created_at
        )
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(subscribers).where(
                    subscribers.c.status == SubscriberStatus.PENDING,
                    last_request < created_before,
                )
            )
        return int(result.rowcount)

    def consent(self, subscriber_id: int) -> dict[str, object] | None:
        """The consent record: how, when, from where, through what, recorded by whom."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(
                    select(*CONSENT_COLUMNS, subscribers.c.confirmed_at).where(
                        subscribers.c.id == subscriber_id
                    )
                )
                .mappings()
                .first()
            )
        return dict(row) if row else None

    def personal_data(self, email: str) -> dict[str, object] | None:
        """Everything kept about one address (GDPR access): its row and the copies it was sent."""
        with self.engine.connect() as connection:
            row = (
                connection.execute(select(subscribers).where(subscribers.c.email == email))
                .mappings()
                .first()
            )
            if row is None:
                return None
            copies = connection.execute(
                select(
                    issues.c.number,
                    issues.c.subject,
                    deliveries.c.state,
                    deliveries.c.updated_at,
                )
                .join(issues, issues.c.id == deliveries.c.issue_id)
                .where(deliveries.c.subscriber_id == row["id"])
                .order_by(deliveries.c.id)
            ).all()
            clicked = connection.execute(
                select(issues.c.number, clicks.c.url, clicks.c.source, clicks.c.clicked_at)
                .join(issues, issues.c.id == clicks.c.issue_id)
                .where(clicks.c.subscriber_id == row["id"])
                .order_by(clicks.c.id)
            ).all()
        data = dict(row)
        data["sections"] = list(segment_sections(row["sections"]))
        data["deliveries"] = [dict(copy._mapping) for copy in copies]
        data["clicks"] = [dict(click._mapping) for click in clicked]
        return data


def _if_pending(asked: str | None, kept: ColumnElement[Any]) -> ColumnElement[Any]:
    """`asked` for a subscriber still pending, else what the row holds (`kept`)."""
    return case((subscribers.c.status == SubscriberStatus.PENDING, asked), else_=kept)
