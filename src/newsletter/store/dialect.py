"""INSERT ... ON CONFLICT DO NOTHING in the dialect of the connection."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert


def insert_ignore(connection: Connection, table: Table) -> PgInsert | SqliteInsert:
    """An insert that silently skips rows violating a unique constraint."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
