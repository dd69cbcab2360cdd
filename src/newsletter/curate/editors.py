"""Editor accounts for the desk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import RowMapping, select
from sqlalchemy.exc import IntegrityError

from newsletter.curate.passwords import MIN_LENGTH, hash_password, verify_nothing, verify_password
from newsletter.domain.errors import InvalidAddress, UsageError
from newsletter.runtime.wiring import Services
from newsletter.store.tables import editors


@dataclass(frozen=True)
class Editor:
    id: int
    name: str
    email: str | None
    # Changes when the password does or the editor logs out, so sessions opened before stop
    # working.
    credential_version: str


def add_editor(services: Services, name: str, password: str, email: str | None = None) -> None:
    name = name.strip()
    if not _possible_name(name):
        raise UsageError("an editor name needs 1 to 200 printable characters")
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password needs at least {MIN_LENGTH} characters")
    if email:
        from newsletter.audience.addresses import normalise_address

        try:
            email = normalise_address(email)
        except InvalidAddress as exc:
            raise UsageError(f"--email: {exc}") from None
    try:
        with services.store.engine.begin() as connection:
            connection.execute(
                editors.insert().values(
                    name=name,
                    password_hash=hash_password(password),
                    created_at=services.clock(),
                    email=email or None,
                )
            )
    except IntegrityError:
        raise UsageError(f"an editor named {name!r} already exists") from None


def check_login(services: Services, name: str, password: str) -> bool:
    return authenticate(services, name, password) is not None


def authenticate(services: Services, name: str, password: str) -> Editor | None:
    """The editor when the name and password match, else None (in about the same time)."""
    if not _possible_name(name):  # no account has it, and PostgreSQL refuses a NUL in a query
        verify_nothing(password)
        return None
    with services.store.engine.connect() as connection:
        row = connection.execute(select(editors).where(editors.c.name == name)).mappings().first()
    if row is None:
        # One hash verification of the same cost either way: timing does not tell which
        # names exist.
        verify_nothing(password)
        return None
    return _editor(row) if verify_password(password, row["password_hash"]) else None


def get_editor(services: Services, editor_id: int) -> Editor | None:
    with services.store.engine.connect() as connection:
        row = (
            connection.execute(select(editors).where(editors.c.id == editor_id)).mappings().first()
        )
    return _editor(row) if row else None


def end_sessions(services: Services, editor_id: int) -> None:
    """Log the editor out everywhere: every session cookie issued so far stops working."""
    with services.store.engine.begin() as connection:
        connection.execute(
            editors.update()
            .where(editors.c.id == editor_id)
            .values(session_epoch=editors.c.session_epoch + 1)
        )


def _possible_name(name: str) -> bool:
    return 0 < len(name) <= 200 and not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)


def _editor(row: RowMapping) -> Editor:
    fingerprint = f"{row['password_hash']}:{row['session_epoch']}"
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return Editor(id=row["id"], name=row["name"], email=row["email"], credential_version=version)
