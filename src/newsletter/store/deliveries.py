"""The delivery ledger: one row per (issue, subscriber), frozen when sending starts.

A row moves pending -> sending (claimed by a worker, just before the provider call) -> sent |
failed. A definite refusal puts it back to pending with a not-before time (`finish`); claims
skip rows not yet due. A row found `sending` by a later run, whose worker died mid-call, becomes
`uncertain` and is not sent again unless asked to. A row whose subscriber left before its batch
went becomes `skipped`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, func, literal, select

from newsletter.domain.delivery import DeliveryCounts, DeliveryState
from newsletter.domain.model import IssueState
from newsletter.domain.readers import SubscriberStatus
from newsletter.store.delivery_rows import (
    chunks,
    claimed_values,
    count_by,
    due,
    held_in_flight,
    journal_statements,
    move_deliveries,
    skip_leavers,
)
from newsletter.store.dialect import insert_ignore
from newsletter.store.engine import Repository
from newsletter.store.issues import next_number
from newsletter.store.reader_tables import deliveries, subscribers
from newsletter.store.tables import issues


@dataclass(frozen=True)
class ClaimedDelivery:
    id: int
    subscriber_id: int
    email: str
    name: str | None
    segment: str = ""  # the reader's sections frozen with the audience ("": every section)


class DeliveryRepository(Repository):
    def start(self, issue_id: int, now: datetime) -> bool:
        """Move a draft or scheduled issue to `sending` and freeze its audience, atomically.

        Returns False when the issue was not in a state to start (already started, sent, ...).
        """
        with self.engine.begin() as connection:
            number = next_number(connection)
            started = connection.execute(
                issues.update()
                .where(
                    issues.c.id == issue_id,
                    issues.c.state.in_([IssueState.DRAFT, IssueState.SCHEDULED]),
                )
                .values(state=IssueState.SENDING, started_at=now)
            )
            if started.rowcount != 1:
                return False
            # The issue's number, given now so that canceled drafts leave no gap.
            connection.execute(
                issues.update()
                .where(issues.c.id == issue_id, issues.c.number.is_(None))
                .values(
                    number=number,
                    subject=func.replace(issues.c.subject, "{number}", str(number)),
                )
            )
            audience = select(
                literal(issue_id),
                subscribers.c.id,
                subscribers.c.email,
                subscribers.c.name,
                literal(DeliveryState.PENDING.value),
                literal(now, type_=deliveries.c.updated_at.type),
                func.coalesce(subscribers.c.sections, literal("")),
            ).where(subscribers.c.status == SubscriberStatus.ACTIVE)
            columns = [
                *("issue_id", "subscriber_id", "email", "name", "state", "updated_at", "segment")
            ]
            connection.execute(insert_ignore(connection, deliveries).from_select(columns, audience))
        return True

    def recover(
        self,
        issue_id: int,
        stale_before: datetime,
        now: datetime,
        dead_workers: Sequence[str] = (),
    ) -> int:
        """Settle the rows a dead worker left `sending`: a copy in flight may have gone
        (`uncertain`); a copy never handed to the provider is `pending` again. Returns how
        many became uncertain.

        A worker is taken for dead when its claim is older than `stale_before` (its lease ran
        out) or when it is one of `dead_workers` (known to have exited).
        """
        stale = deliveries.c.claimed_at < stale_before
        if dead_workers:
            stale = stale | deliveries.c.worker.in_(list(dead_workers))
        left = (deliveries.c.issue_id == issue_id, deliveries.c.state == DeliveryState.SENDING)
        with self.engine.begin() as connection:
            uncertain = move_deliveries(
                connection,
                DeliveryState.UNCERTAIN,
                now,
                (*left, stale, deliveries.c.in_flight.is_(True)),
                error="worker died mid-send",
            )
            move_deliveries(connection, DeliveryState.PENDING, now, (*left, stale), worker=None)
        return uncertain

    def transmitting(
        self, delivery_id: int, worker: str, answered: Mapping[int, bool], now: datetime
    ) -> bool:
        """Copy by copy (SMTP), in one transaction: `delivery_id` is in flight, its body about
        to go; the copies of `answered` had their reply read: accepted ones are `sent`, refused
        ones stay claimed but out of flight (the batch's `finish` records why). False when the
        row is no longer `worker`'s to send (another run took it back): it must not go."""
        accepted = [key for key, ok in answered.items() if ok]
        refused = [key for key, ok in answered.items() if not ok]
        sent, out_of_flight, in_flight = journal_statements()
        with self.engine.begin() as connection:
            if accepted:
                connection.execute(sent, {"ids": accepted, "now": now})
            if refused:
                connection.execute(out_of_flight, {"ids": refused, "now": now})
            taken = connection.execute(
                in_flight, {"copy": delivery_id, "holder": worker, "now": now}
            )
        return taken.rowcount == 1

    def sending_workers(self, issue_id: int) -> list[str]:
        """The workers holding rows of this issue in `sending`."""
        found = self._distinct(deliveries.c.worker, issue_id, DeliveryState.SENDING)
        return [str(worker) for worker in found if worker is not None]

    def in_flight_of(self, issue_id: int, workers: Sequence[str]) -> list[int]:
        """The rows of this issue that `workers` left in flight."""
        with self.engine.connect() as connection:
            query = select(deliveries.c.id).where(*held_in_flight(issue_id, workers))
            return list(connection.execute(query.order_by(deliveries.c.id)).scalars())

    def settle(
        self, issue_id: int, workers: Sequence[str], went: Collection[int], now: datetime
    ) -> None:
        """The rows `workers` (known dead) left in flight, settled by what the provider found,
        in one transaction: those in `went` are `sent`, the others `pending` again. Only rows
        still theirs move: a run that settled them first may hold them again by now."""
        theirs = held_in_flight(issue_id, workers)
        with self.engine.begin() as connection:
            for chunk in chunks(sorted(went), 500):
                where = (*theirs, deliveries.c.id.in_(chunk))
                move_deliveries(connection, DeliveryState.SENT, now, where, error=None)
            move_deliveries(connection, DeliveryState.PENDING, now, theirs, worker=None)

    def reclaim(
        self, ids: Sequence[int], worker: str, now: datetime, in_flight: bool = True
    ) -> set[int]:
        """Claim again, for a retry after its wait, rows this worker released: those still
        pending (nobody else took them meanwhile) become `sending` again, except for rows whose
        subscriber left meanwhile (a complaint or bounce that came in during the wait), which
        become `skipped`. Returns the ids now held, to send."""
        kept: set[int] = set()
        with self.engine.begin() as connection:
            for chunk in chunks(list(ids), 500):
                query = (
                    select(deliveries.c.id, subscribers.c.status)
                    .outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
                    .where(deliveries.c.id.in_(chunk), deliveries.c.state == DeliveryState.PENDING)
                )
                if connection.dialect.name == "postgresql":
                    query = query.with_for_update(of=deliveries, skip_locked=True)
                rows = connection.execute(query).all()
                held = skip_leavers(connection, rows, now)
                if held:
                    taken = connection.execute(
                        deliveries.update()
                        .where(
                            deliveries.c.id.in_(held),
                            deliveries.c.state == DeliveryState.PENDING,
                        )
                        .values(claimed_values(worker, now, in_flight))
                        .returning(deliveries.c.id)
                    ).scalars()
                    kept.update(taken)
        return kept

    def requeue_uncertain(self, issue_id: int, now: datetime) -> int:
        with self.engine.begin() as connection:
            return move_deliveries(
                connection,
                DeliveryState.PENDING,
                now,
                (deliveries.c.issue_id == issue_id, deliveries.c.state == DeliveryState.UNCERTAIN),
            )

    def claim(
        self, issue_id: int, size: int, worker: str, now: datetime, in_flight: bool = True
    ) -> list[ClaimedDelivery]:
        """Take the next batch of pending rows for this worker and mark them `sending`: in
        flight at once for a provider that hands the batch over whole, else (`in_flight`
        False) as each copy goes (`transmitting`).

        Rows whose subscriber is no longer active are marked `skipped` instead. On PostgreSQL
        the rows are locked with SKIP LOCKED so concurrent workers take disjoint batches.
        """
        with self.engine.begin() as connection:
            pending = (
                (deliveries.c.issue_id == issue_id)
                & (deliveries.c.state == DeliveryState.PENDING)
                & due(now)
            )
            # One batch holds one segment's copies: the segment of the first due pending row.
            segment = connection.execute(
                select(deliveries.c.segment).where(pending).order_by(deliveries.c.id).limit(1)
            ).scalar()
            if segment is None:
                return []
            query = (
                select(
                    deliveries.c.id,
                    deliveries.c.subscriber_id,
                    deliveries.c.email,
                    deliveries.c.name,
                    deliveries.c.segment,
                    subscribers.c.status,
                )
                .outerjoin(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
                .where(pending, deliveries.c.segment == segment)
                .order_by(deliveries.c.id)
                .limit(size)
            )
            if connection.dialect.name == "postgresql":
                query = query.with_for_update(of=deliveries, skip_locked=True)
            rows = connection.execute(query).all()
            held = set(skip_leavers(connection, rows, now))
            active = [row for row in rows if row.id in held]
            if active:
                connection.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_([row.id for row in active]))
                    .values(claimed_values(worker, now, in_flight))
                )
        return [
            ClaimedDelivery(row.id, row.subscriber_id, row.email, row.name, row.segment)
            for row in active
        ]

    def pending_segments(self, issue_id: int) -> list[str]:
        """The segments that still have copies to send."""
        found = self._distinct(deliveries.c.segment, issue_id, DeliveryState.PENDING)
        return sorted(str(key) for key in found)

    def _distinct(self, column: Column[Any], issue_id: int, state: DeliveryState) -> list[Any]:
        """The values `column` takes in this issue's rows in `state`."""
        with self.engine.connect() as connection:
            query = select(column).where(
                deliveries.c.issue_id == issue_id, deliveries.c.state == state
            )
            return list(connection.execute(query.distinct()).scalars())

    def skip_segment(self, issue_id: int, segment: str, now: datetime) -> int:
        """Mark `skipped` the pending copies of a segment that has nothing this issue."""
        with self.engine.begin() as connection:
            result = connection.execute(
                deliveries.update()
                .where(
                    deliveries.c.issue_id == issue_id,
                    deliveries.c.state == DeliveryState.PENDING,
                    deliveries.c.segment == segment,
                )
                .values(
                    state=DeliveryState.SKIPPED, updated_at=now, error="nothing in their sections"
                )
            )
        return int(result.rowcount)

    def pending_due(self, issue_id: int, now: datetime) -> datetime | None:
        """When the next pending row may be claimed: `now` if one may already, the earliest
        not-before time if all wait, None when no row is pending."""
        pending = (deliveries.c.issue_id == issue_id, deliveries.c.state == DeliveryState.PENDING)
        with self.engine.connect() as connection:
            due_now = connection.execute(
                select(deliveries.c.id).where(*pending, due(now)).limit(1)
            ).first()
            if due_now is not None:
                return now
            earliest: datetime | None = connection.execute(
                select(func.min(deliveries.c.not_before)).where(*pending)
            ).scalar_one()
            return earliest

    def finish(
        self,
        sent: Sequence[int],
        failed: Mapping[int, str],
        now: datetime,
        uncertain: Mapping[int, str] | None = None,
        release: Sequence[int] = (),
        not_before: datetime | None = None,
    ) -> None:
        """Record the provider's answer for a claimed batch, in one transaction: what it took
        (sent), refused for good (failed) or may have taken (uncertain), and the rows it did
        not take, given back (`release`)."""
        with self.engine.begin() as connection:
            for chunk in chunks(list(release), 500):
                sending = (deliveries.c.id.in_(chunk), deliveries.c.state == DeliveryState.SENDING)
                move_deliveries(
                    connection,
                    DeliveryState.PENDING,
                    now,
                    sending,
                    worker=None,
                    not_before=not_before,
                )
            for chunk in chunks(list(sent), 500):
                move_deliveries(
                    connection, DeliveryState.SENT, now, (deliveries.c.id.in_(chunk),), error=None
                )
            for state, errors in (
                (DeliveryState.FAILED, failed),
                (DeliveryState.UNCERTAIN, uncertain or {}),
            ):
                for delivery_id, error in errors.items():
                    one = (deliveries.c.id == delivery_id,)
                    move_deliveries(connection, state, now, one, error=error[:1000])

    def counts(self, issue_id: int) -> dict[DeliveryState, int]:
        with self.engine.connect() as connection:
            found = count_by(connection, deliveries.c.state, deliveries.c.issue_id == issue_id)
        return {state: found.get(state, 0) for state in DeliveryState}

    def status(self, issue_id: int, state: IssueState) -> DeliveryCounts:
        counts = self.counts(issue_id)
        return DeliveryCounts(
            id=issue_id,
            state=state,
            total=sum(counts.values()),
            pending=counts[DeliveryState.PENDING],
            sent=counts[DeliveryState.SENT],
            failed=counts[DeliveryState.FAILED],
            uncertain=counts[DeliveryState.UNCERTAIN],
            skipped=counts[DeliveryState.SKIPPED],
            sending=counts[DeliveryState.SENDING],
        )
