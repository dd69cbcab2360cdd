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

from newsletter.domain.errors import UsageError
from newsletter.store import Store
from newsletter.store.locks import AdvisoryLock

SCHEDULER_LOCK = "newsletter-scheduler"


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if free; True if this process now holds it."""

    def still_held(self) -> bool:
        """False once the lock is lost (e.g. the database connection dropped)."""

    def release(self) -> None: ...


class PostgresLeaderLock:
    """The scheduler's advisory lock; the store runs its SQL."""

    def __init__(self, lock: AdvisoryLock) -> None:
        self._lock = lock

    def try_acquire(self) -> bool:
        if self._lock.held:
            return self.still_held()
        return self._lock.try_lock()

    def still_held(self) -> bool:
        return self._lock.check()

    def release(self) -> None:
        self._lock.unlock()


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


def lock_for(store: Store) -> LeaderLock:
    if store.is_postgres:
        return PostgresLeaderLock(store.advisory_lock(SCHEDULER_LOCK))
    database = store.sqlite_file
    if not database or database == ":memory:":
        raise UsageError("the scheduler needs a database file or PostgreSQL, not :memory:")
    return FileLeaderLock(Path(database + ".scheduler.lock"))


def sqlite_busy_message(lock: FileLeaderLock) -> str:
    return (
        f"another `newsletter run` (pid {lock.holder()}) already runs the scheduler on this "
        "SQLite database; run one process, or use PostgreSQL to run several"
    )
