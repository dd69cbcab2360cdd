"""Editor accounts for the desk: two roles, one-time password links, the desk's log.

An `admin` manages editors, erases subscribers and sends issues; an `editor` does the rest.
The first editor ever added is an admin. An invitation and a password reset are the same
one-time link: signed, valid `LINK_HOURS`, and bound to the account's current credentials,
so it stops working once a password is set through it (or the password changes otherwise).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from newsletter.curate.passwords import MIN_LENGTH, hash_password, verify_nothing, verify_password
from newsletter.domain.errors import InvalidAddress, TokenError, UsageError
from newsletter.domain.model import MAX_ROW_ID
from newsletter.domain.tokens import TokenSigner
from newsletter.store.editors import EditorRepository, StoredEditor

LINK_HOURS = 72
# No password matches it (verify_password refuses any other scheme): an invited account
# cannot log in before its owner chooses a password through the link.
NO_PASSWORD = "!invited"


class Role(StrEnum):
    EDITOR = "editor"
    ADMIN = "admin"


@dataclass(frozen=True)
class Editor:
    id: int
    name: str
    email: str | None
    # Changes when the password does or the editor logs out, so sessions opened before stop
    # working.
    credential_version: str
    role: Role = Role.EDITOR
    invited: bool = False  # no password chosen yet

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def add_editor(
    editors: EditorRepository,
    now: datetime,
    name: str,
    password: str,
    email: str | None = None,
    role: Role | None = None,
) -> None:
    """A new account; without `role`, admin if it is the first one, else editor."""
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password needs at least {MIN_LENGTH} characters")
    _create(editors, now, name, hash_password(password), email, role)


def invite(
    editors: EditorRepository,
    signer: TokenSigner,
    now: datetime,
    name: str,
    email: str | None,
    role: Role,
) -> str:
    """A new account without a password, and the one-time token that lets its owner set one."""
    _create(editors, now, name, NO_PASSWORD, email, role)
    stored = editors.by_name(name.strip())
    assert stored is not None
    return password_link_token(signer, _editor(stored), now)


def password_link_token(signer: TokenSigner, editor: Editor, now: datetime) -> str:
    """The one-time token of a password link (invitation or reset) for this account."""
    return signer.sign(_link_purpose(editor), editor.id, now)


def editor_of_link(
    editors: EditorRepository, signer: TokenSigner, token: str, now: datetime
) -> Editor:
    """The account a password link is for; TokenError when it is bad, used or expired."""
    if not token.isascii() or len(token) > 400:
        raise TokenError("this link is invalid or has been altered")
    editor_id = signer.claimed_id(token)
    editor = get_editor(editors, editor_id) if 0 < editor_id <= MAX_ROW_ID else None
    if editor is None:
        raise TokenError("this link is invalid or has been altered")
    signer.verify(token, _link_purpose(editor), now, timedelta(hours=LINK_HOURS))
    return editor


def set_password(editors: EditorRepository, editor: Editor, password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise UsageError(f"the password needs at least {MIN_LENGTH} characters")
    editors.set_password(editor.id, hash_password(password))


def list_editors(editors: EditorRepository) -> list[Editor]:
    return [_editor(stored) for stored in editors.all()]


def find(editors: EditorRepository, name: str) -> Editor:
    stored = editors.by_name(name.strip()) if _possible_name(name.strip()) else None
    if stored is None:
        raise UsageError(f"no editor is named {name!r}")
    return _editor(stored)


def remove_editor(editors: EditorRepository, editor: Editor) -> None:
    """Remove an account; never the last admin (nobody could manage editors any more)."""
    if editor.is_admin and editors.admins() <= 1:
        raise UsageError(f"{editor.name} is the last admin: make another editor admin first")
    editors.remove(editor.id)


def change_role(editors: EditorRepository, editor: Editor, role: Role) -> None:
    if editor.is_admin and role is not Role.ADMIN and editors.admins() <= 1:
        raise UsageError(f"{editor.name} is the last admin: make another editor admin first")
    editors.set_role(editor.id, role)  # read at every request: open sessions follow at once


def authenticate(editors: EditorRepository, name: str, password: str) -> Editor | None:
    """The editor when the name and password match, else None (in about the same time)."""
    if not _possible_name(name):  # no account has it, and PostgreSQL refuses a NUL in a query
        verify_nothing(password)
        return None
    stored = editors.by_name(name)
    if stored is None or stored.password_hash == NO_PASSWORD:
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


def _create(
    editors: EditorRepository,
    now: datetime,
    name: str,
    password_hash: str,
    email: str | None,
    role: Role | None,
) -> None:
    name = name.strip()
    if not _possible_name(name):
        raise UsageError("an editor name needs 1 to 200 printable characters")
    if email:
        from newsletter.audience.addresses import normalise_address

        try:
            email = normalise_address(email)
        except InvalidAddress as exc:
            raise UsageError(f"--email: {exc}") from None
    if not editors.add(name, password_hash, now, email or None, role.value if role else None):
        raise UsageError(f"an editor named {name!r} already exists")


def _link_purpose(editor: Editor) -> str:
    return f"editor-password:{editor.credential_version}"


def _possible_name(name: str) -> bool:
    return 0 < len(name) <= 200 and not any(ord(ch) < 32 or ord(ch) == 127 for ch in name)


def _editor(stored: StoredEditor) -> Editor:
    fingerprint = f"{stored.password_hash}:{stored.session_epoch}"
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    role = Role.ADMIN if stored.role == Role.ADMIN else Role.EDITOR
    return Editor(
        id=stored.id,
        name=stored.name,
        email=stored.email,
        credential_version=version,
        role=role,
        invited=stored.password_hash == NO_PASSWORD,
    )
