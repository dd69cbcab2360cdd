"""PostgreSQL session-level advisory locks: the SQL behind runtime/leader.py's leader lock.

The lock lives as long as the connection that took it, so it is held on a connection of its
own: when the process dies, PostgreSQL closes the session and frees the lock.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

# One key per lock name, database *and* schema, so deployments sharing a server do not contend.
_KEY = "SELECT hashtext(:name || ':' || current_database() || '.' || current_schema())"


class AdvisoryLock:
    """One named advisory lock, taken at most once, on a connection kept while it is held."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        """This object took the lock and has not seen its connection fail since."""
        return self._connection is not None

    def try_lock(self) -> bool:
        """One attempt on a new connection; True if the lock is now ours (False on any
        database error: the caller tries again later)."""
        if self._connection is not None:
            return True
        connection = self.engine.connect()
        try:
            key = connection.execute(text(_KEY), {"name": self.name}).scalar_one()
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

    def check(self) -> bool:
        """Whether the session holding the lock is still alive (if not, the lock is gone)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
            return True
        except DBAPIError:
            self._drop()
            return False

    def unlock(self) -> None:
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
