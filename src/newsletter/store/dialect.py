"""Dialect helpers: INSERT ... ON CONFLICT DO NOTHING, and SQLite's one-writer lock."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager, nullcontext
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def insert_ignore(connection: Connection, table: Table) -> PgInsert | SqliteInsert:
    """An insert that silently skips rows violating a unique constraint."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


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
