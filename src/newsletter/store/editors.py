"""Editor accounts: names, password hashes, and the session epoch that logging out bumps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, select
from sqlalchemy.exc import IntegrityError

from newsletter.store.engine import Repository
from newsletter.store.rows import from_row
from newsletter.store.tables import editors


@dataclass(frozen=True)
class StoredEditor:
    """An editor's row; curate/editors.py decides what the hash and the epoch mean."""

    id: int
    name: str
    email: str | None
    password_hash: str
    session_epoch: int


class EditorRepository(Repository):
    def add(self, name: str, password_hash: str, created_at: datetime, email: str | None) -> bool:
        """Store a new editor; False if the name is taken."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    editors.insert().values(
                        name=name, password_hash=password_hash, created_at=created_at, email=email
                    )
                )
        except IntegrityError:
            return False
        return True

    def by_name(self, name: str) -> StoredEditor | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(editors).where(editors.c.name == name)).mappings()
            return _editor(row.first())

    def get(self, editor_id: int) -> StoredEditor | None:
        with self.engine.connect() as connection:
            row = connection.execute(select(editors).where(editors.c.id == editor_id)).mappings()
            return _editor(row.first())

    def bump_session_epoch(self, editor_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                editors.update()
                .where(editors.c.id == editor_id)
                .values(session_epoch=editors.c.session_epoch + 1)
            )


def _editor(row: RowMapping | None) -> StoredEditor | None:
    if row is None:
        return None
    return from_row(StoredEditor, row)
