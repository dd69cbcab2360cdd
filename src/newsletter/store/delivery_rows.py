"""The ledger's rows as statements: which rows a condition picks and how they move from state to
state. What `DeliveryRepository` (deliveries.py) is built from; `count_by` serves the events too.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Update,
    bindparam,
    func,
    or_,
    select,
)

from newsletter.domain.delivery import DeliveryState
from newsletter.domain.readers import SubscriberStatus
from newsletter.store.reader_tables import deliveries


def due(now: datetime) -> ColumnElement[bool]:
    """A pending row that may be claimed at `now`."""
    return or_(deliveries.c.not_before.is_(None), deliveries.c.not_before <= now)


def claimed_values(worker: str, now: datetime, in_flight: bool) -> dict[str, Any]:
    """The values of a row a worker claims, just before calling the provider."""
    return {
        "state": DeliveryState.SENDING,
        "in_flight": in_flight,
        "worker": worker,
        "claimed_at": now,
        "updated_at": now,
        "not_before": None,
        "attempts": deliveries.c.attempts + 1,
    }


@functools.cache
def journal_statements() -> tuple[Update, Update, Update]:
    """`DeliveryRepository.transmitting`'s statements, built once: a write per copy (SMTP)
    then pays only for running them, not for building and keying them again (most of its
    cost)."""
    ids: BindParameter[int] = bindparam("ids", expanding=True)
    now = bindparam("now", type_=deliveries.c.updated_at.type)
    sent = (
        deliveries.update()
        .where(deliveries.c.id.in_(ids))
        .values(state=DeliveryState.SENT, updated_at=now, in_flight=False, error=None)
    )
    out_of_flight = (
        deliveries.update().where(deliveries.c.id.in_(ids)).values(in_flight=False, updated_at=now)
    )
    in_flight = (
        deliveries.update()
        .where(
            deliveries.c.id == bindparam("copy"),
            deliveries.c.state == DeliveryState.SENDING,
            deliveries.c.worker == bindparam("holder"),
        )
        .values(in_flight=True, updated_at=now)
    )
    return sent, out_of_flight, in_flight


def held_in_flight(issue_id: int, workers: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    """The rows of this issue that `workers` hold in flight."""
    return (
        deliveries.c.issue_id == issue_id,
        deliveries.c.state == DeliveryState.SENDING,
        deliveries.c.in_flight.is_(True),
        deliveries.c.worker.in_(list(workers)),
    )


def move_deliveries(
    connection: Connection,
    to: DeliveryState,
    now: datetime,
    where: Sequence[ColumnElement[bool]],
    **values: Any,
) -> int:
    """Put the rows matching every condition of `where` in state `to` (and `values`), out of
    flight; how many."""
    result = connection.execute(
        deliveries.update()
        .where(*where)
        .values(state=to, updated_at=now, in_flight=False, **values)
    )
    return int(result.rowcount)


def count_by(
    connection: Connection, column: ColumnElement[Any], where: ColumnElement[bool]
) -> dict[Any, int]:
    """How many rows match `where`, per value of `column` (of one table)."""
    rows = connection.execute(select(column, func.count()).where(where).group_by(column)).all()
    return {value: int(n) for value, n in rows}


def skip_leavers(connection: Connection, rows: Sequence[Any], now: datetime) -> list[int]:
    """Mark `skipped` the rows (id, subscriber status) whose subscriber is no longer active
    (left, or erased); the ids of the others, still to send."""
    gone = [row.id for row in rows if row.status != SubscriberStatus.ACTIVE]
    if gone:
        move_deliveries(connection, DeliveryState.SKIPPED, now, (deliveries.c.id.in_(gone),))
    return [row.id for row in rows if row.status == SubscriberStatus.ACTIVE]


def chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
