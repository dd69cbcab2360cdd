"""Editor accounts (names, roles, password hashes, the session epoch that logging out bumps)
and the desk's log of who did what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, delete, func, select
from sqlalchemy.exc import IntegrityError

from newsletter.store.desk_tables import desk_log, editors
from newsletter.store.engine import Repository
from newsletter.store.rows import from_row


@dataclass(frozen=True)
class StoredEditor:
    """An editor's row; curate/editors.py decides what the hash, epoch and role mean."""

    id: int
    name: str
    email: str | None
    password_hash: str
    session_epoch: int
    role: str


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    editor: str
    action: str
    target: str


class EditorRepository(Repository):
    def add(
        self,
        name: str,
        password_hash: str,
        created_at: datetime,
        email: str | None,
        role: str | None = None,
    ) -> bool:
        """Store a new editor; False if the name is taken. Without `role`, the first editor is
        an admin and the others editors."""
        try:
            with self.engine.begin() as connection:
                if role is None:
                    count = connection.execute(select(func.count()).select_from(editors))
                    role = "editor" if count.scalar_one() else "admin"
                connection.execute(
                    editors.insert().values(
                        name=name,
                        password_hash=password_hash,
                        created_at=created_at,
                        email=email,
                        role=role,
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

    def all(self) -> list[StoredEditor]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(editors).order_by(editors.c.name)).mappings()
            return [editor for row in rows if (editor := _editor(row))]

    def remove(self, editor_id: int) -> bool:
        with self.engine.begin() as connection:
            return bool(
                connection.execute(delete(editors).where(editors.c.id == editor_id)).rowcount
            )

    def set_role(self, editor_id: int, role: str) -> bool:
        with self.engine.begin() as connection:
            changed = connection.execute(
                editors.update().where(editors.c.id == editor_id).values(role=role)
            )
            return bool(changed.rowcount)

    def set_password(self, editor_id: int, password_hash: str) -> bool:
        """A new hash (sessions and one-time links issued before stop working)."""
        with self.engine.begin() as connection:
            changed = connection.execute(
                editors.update()
                .where(editors.c.id == editor_id)
                .values(password_hash=password_hash, session_epoch=editors.c.session_epoch + 1)
            )
            return bool(changed.rowcount)

    def admins(self) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(
                select(func.count()).select_from(editors).where(editors.c.role == "admin")
            )
            return int(count.scalar_one())

    def bump_session_epoch(self, editor_id: int) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                editors.update()
                .where(editors.c.id == editor_id)
                .values(session_epoch=editors.c.session_epoch + 1)
            )

    def log(self, at: datetime, editor: str, action: str, target: str) -> None:
        """Record one desk action: who, when, what, on whom."""
        with self.engine.begin() as connection:
            connection.execute(
                desk_log.insert().values(at=at, editor=editor, action=action, target=target[:400])
            )

    def recent_log(self, limit: int = 200) -> list[LogEntry]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(desk_log).order_by(desk_log.c.at.desc(), desk_log.c.id.desc()).limit(limit)
            ).mappings()
            return [LogEntry(r["at"], r["editor"], r["action"], r["target"]) for r in rows]


def _editor(row: RowMapping | None) -> StoredEditor | None:
    if row is None:
        return None
    return from_row(StoredEditor, row)
