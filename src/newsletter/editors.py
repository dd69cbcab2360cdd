"""Editor accounts for the desk."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from newsletter.bootstrap import Services
from newsletter.errors import UsageError
from newsletter.passwords import MIN_LENGTH, hash_password, verify_password
from newsletter.store.tables import editors


def add_editor(services: Services, name: str, password: str) -> None:
    name = name.strip()
    if not name or len(name) > 200 or any(ord(ch) < 32 for ch in name):
        raise UsageError("an editor name needs 1 to 200 printable characters")
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password needs at least {MIN_LENGTH} characters")
    try:
        with services.store.engine.begin() as connection:
            connection.execute(
                editors.insert().values(
                    name=name, password_hash=hash_password(password), created_at=services.clock()
                )
            )
    except IntegrityError:
        raise UsageError(f"an editor named {name!r} already exists") from None


def check_login(services: Services, name: str, password: str) -> bool:
    with services.store.engine.connect() as connection:
        stored = connection.execute(
            select(editors.c.password_hash).where(editors.c.name == name)
        ).scalar()
    if stored is None:
        # Same work either way, so timing does not tell which names exist.
        verify_password(password, hash_password("not-an-account"))
        return False
    return verify_password(password, stored)
