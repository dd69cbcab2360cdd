"""Password hashing with scrypt (a memory-hard KDF from the standard library). Pure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# n=2**14, r=8, p=1: ~16 MiB and tens of milliseconds per hash, the usual interactive setting.
_N, _R, _P = 2**14, 8, 1
MIN_LENGTH = 10


def verify_nothing(password: str) -> bool:
    """The work of `verify_password` against a hash of the current cost that no password
    matches: a login for an unknown name costs what one for a known name costs. False."""
    verify_password(password, _NO_ACCOUNT)
    return False


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# Same parameters as `hash_password`; the digest is not the scrypt of anything one can type.
_NO_ACCOUNT = f"scrypt${_N}${_R}${_P}${_b64(bytes(16))}${_b64(bytes(32))}"


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
