"""Database engines: SQLite tuned for one writer and many readers, PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from newsletter.store.private_files import touch_private

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_FOLD = "newsletter_fold"  # what `store.search.Folded` compiles to on SQLite


class Repository:
    """Reads and writes one concept's tables through the engine it is given."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine


def normalise_url(url: str) -> str:
    """Use psycopg 3 for any PostgreSQL URL, whatever driver the URL names."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """The database URL with its password masked, fit to print."""
    return make_url(url).render_as_string(hide_password=True)


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            # Created 0600 before SQLite opens it: SQLite gives -wal and -shm the same mode.
            with contextlib.suppress(OSError):  # SQLite itself says why when it opens the file
                touch_private(Path(database))
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "connect", _register_fold)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off so that `begin` below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _register_fold(dbapi_connection: Any, _record: Any) -> None:
    """Give a SQLite connection the folding function (deterministic: usable in indexes)."""
    dbapi_connection.create_function(SQLITE_FOLD, 1, _fold_or_none, deterministic=True)


def _fold_or_none(value: object) -> str | None:
    # Imported when a query folds text, not by every command that opens the database.
    from newsletter.domain.french import fold

    return None if value is None else fold(str(value))


def _sqlite_begin_immediate(connection: Any) -> None:
    # Take the write lock at BEGIN: read-then-write transactions then wait on busy_timeout
    # instead of failing with "database is locked" when another process writes.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
