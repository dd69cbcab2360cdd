"""Dialect helpers: INSERT ... ON CONFLICT DO NOTHING (one row or many), a membership test
for long lists of values, and SQLite's one-writer lock."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    any_,
    bindparam,
    func,
    literal,
    select,
)

if TYPE_CHECKING:
    from sqlalchemy.dialects.postgresql import Insert as PgInsert
    from sqlalchemy.dialects.sqlite import Insert as SqliteInsert

# The dialects are imported when a statement needs one: importing PostgreSQL's loads all its
# drivers (asyncio with them), which a command on SQLite would pay at start-up for nothing.


def insert_ignore(connection: Connection, table: Table) -> PgInsert | SqliteInsert:
    """An insert that silently skips rows violating a unique constraint."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table).on_conflict_do_nothing()


def insert_ignore_many(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: str
) -> list[Any]:
    """Insert the rows (all with the same keys), skipping those that violate a unique
    constraint; the `returning` column of the rows inserted.

    On PostgreSQL one statement whatever the number of rows: the values travel as one array
    per column, unnested on the server. On SQLite, an executemany in a few batches.
    """
    if not rows:
        return []
    columns = list(rows[0])
    if connection.dialect.name != "postgresql":
        statement = insert_ignore(connection, table).returning(table.c[returning])
        return list(connection.execute(statement, list(rows)).scalars())
    from sqlalchemy.dialects import postgresql

    # A value every row shares (the time received, often the issue) is sent once, not per row
    # (the returned column always varies: the unnest needs one array).
    first = rows[0]
    shared = {
        name: first[name]
        for name in columns
        if name != returning and all(row[name] == first[name] for row in rows)
    }
    varying = [name for name in columns if name not in shared]
    arrays = [
        bindparam(
            f"{name}_values",
            [row[name] for row in rows],
            type_=postgresql.ARRAY(table.c[name].type),
        )
        for name in varying
    ]
    source = func.unnest(*arrays).table_valued(*varying).render_derived()
    values = [
        source.c[name] if name in varying else literal(shared[name], table.c[name].type)
        for name in columns
    ]
    statement = (
        postgresql.insert(table)
        .from_select(columns, select(*values))
        .on_conflict_do_nothing()
        .returning(table.c[returning])
    )
    return list(connection.execute(statement).scalars())


def among(connection: Connection, column: ColumnElement[Any], values: Collection[Any]) -> Any:
    """`column IN (values)`: on PostgreSQL `= ANY(array)`, one parameter however many values
    (the same statement text each time, so the driver prepares it once)."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
    return column.in_(list(values))


_WRITE_LOCKS: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def write_lock(engine: Engine) -> AbstractContextManager[object]:
    """Serialise this process's write transactions on SQLite (a no-op elsewhere).

    SQLite admits one writer; threads that collide wait in its busy handler, which sleeps in
    growing steps and makes latency spiky under load. Queueing on a lock first hands the
    database over as soon as it is free. Other processes still wait on busy_timeout.
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    with _LOCKS_GUARD:
        lock = _WRITE_LOCKS.get(engine)
        if lock is None:
            lock = _WRITE_LOCKS[engine] = threading.Lock()
    return lock
