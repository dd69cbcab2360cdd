"""Editor accounts for the desk."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from newsletter.curate.passwords import MIN_LENGTH, hash_password, verify_nothing, verify_password
from newsletter.domain.errors import InvalidAddress, UsageError
from newsletter.store.editors import EditorRepository, StoredEditor


@dataclass(frozen=True)
class Editor:
    id: int
    name: str
    email: str | None
    # Changes when the password does or the editor logs out, so sessions opened before stop
    # working.
    credential_version: str


def add_editor(
    editors: EditorRepository, now: datetime, name: str, password: str, email: str | None = None
) -> None:
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
    if not editors.add(name, hash_password(password), now, email or None):
        raise UsageError(f"an editor named {name!r} already exists")


def authenticate(editors: EditorRepository, name: str, password: str) -> Editor | None:
    """The editor when the name and password match, else None (in about the same time)."""
    if not _possible_name(name):  # no account has it, and PostgreSQL refuses a NUL in a query
        verify_nothing(password)
        return None
    stored = editors.by_name(name)
    if stored is None:
        # One hash verification of the same cost either way: timing does not tell which
        # names exist.
        verify_nothing(password)
        return None
    return _editor(stored) if verify_password(password, stored.password_hash) else None


def get_editor(editors: EditorRepository, editor_id: int) -> Editor | None:
    stored = editors.get(editor_id)
    return _editor(stored) if stored else None


def end_sessions(editors: EditorRepository, editor_id: int) -> None:
    """Log the editor out everywhere: every session cookie issued so far stops working."""
    editors.bump_session_epoch(editor_id)


def _possible_name(name: str) -> bool:
    return 0 < len(name) <= 200 and not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)


def _editor(stored: StoredEditor) -> Editor:
    fingerprint = f"{stored.password_hash}:{stored.session_epoch}"
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return Editor(id=stored.id, name=stored.name, email=stored.email, credential_version=version)
