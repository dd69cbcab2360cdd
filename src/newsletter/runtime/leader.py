"""Which process runs the scheduler: exactly one at a time.

On PostgreSQL, the leader holds a session-level advisory lock on a connection of its own; when
the process dies its connection closes, PostgreSQL releases the lock, and a waiting process
takes over at its next try. On SQLite only one process may run the scheduler: a lock file next
to the database says who, and a second one refuses to start.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from newsletter.domain.errors import UsageError


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if free; True if this process now holds it."""

    def still_held(self) -> bool:
        """False once the lock is lost (e.g. the database connection dropped)."""

    def release(self) -> None: ...


class PostgresLeaderLock:
    # One key per database *and* schema, so deployments sharing a server do not contend.
    _KEY = (
        "SELECT hashtext('newsletter-scheduler:' || current_database() || '.' || current_schema())"
    )

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None

    def try_acquire(self) -> bool:
        if self._connection is not None:
            return self.still_held()
        connection = self.engine.connect()
        try:
            key = connection.execute(text(self._KEY)).scalar_one()
            got = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            connection.commit()
        except DBAPIError:
            connection.close()
            return False
        if got:
            self._connection = connection
            return True
        connection.close()
        return False

    def still_held(self) -> bool:
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
                self._connection.commit()
            except DBAPIError:
                pass
            self._drop()

    def _drop(self) -> None:
        if self._connection is not None:
            try:
                self._connection.invalidate()
                self._connection.close()
            finally:
                self._connection = None


class FileLeaderLock:
    """An exclusive `flock` on `<database>.scheduler.lock`; the kernel frees it if we die."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def try_acquire(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return True

    def still_held(self) -> bool:
        return self._handle is not None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "unknown"
        except OSError:
            return "unknown"


def lock_for(engine: Engine) -> LeaderLock:
    url = make_url(str(engine.url))
    if engine.dialect.name == "postgresql":
        return PostgresLeaderLock(engine)
    database = url.database
    if not database or database == ":memory:":
        raise UsageError("the scheduler needs a database file or PostgreSQL, not :memory:")
    return FileLeaderLock(Path(database + ".scheduler.lock"))


def sqlite_busy_message(lock: FileLeaderLock) -> str:
    return (
        f"another `newsletter run` (pid {lock.holder()}) already runs the scheduler on this "
        "SQLite database; run one process, or use PostgreSQL to run several"
    )
