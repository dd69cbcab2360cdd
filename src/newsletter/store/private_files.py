"""Files that hold personal data or secrets, created readable by their owner only.

The database (and SQLite's -wal/-shm, which copy its mode), the .eml outbox, the generated
secret key and CSV exports are created 0600, in folders created 0700. The mode is set with
chmod after creation: the umask would otherwise decide it, widening it under a permissive umask
or taking the owner's own access away under a strict one. Existing files and folders are left as
they are: an administrator may have chosen their modes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TextIO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> None:
    """Create `path` and any missing parents, each 0700; folders that exist are kept as they are."""
    missing: list[Path] = []
    current = path
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(PRIVATE_DIR)
        except FileExistsError:
            continue  # another process made it meanwhile: theirs
        os.chmod(folder, PRIVATE_DIR)


def create_private(path: Path, *, exclusive: bool = False) -> int:
    """Open `path` for writing as a 0600 file (truncated, or new only when `exclusive`); an fd.

    FileExistsError when `exclusive` and the file exists.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    try:
        os.fchmod(fd, PRIVATE_FILE)
    except OSError:
        os.close(fd)
        raise
    return fd


def write_private_text(path: Path) -> TextIO:
    """A text file to write personal data into (an export): 0600, UTF-8, newlines untranslated."""
    private_dir(path.parent)
    return os.fdopen(create_private(path), "w", encoding="utf-8", newline="")


def touch_private(path: Path) -> None:
    """Create an empty 0600 file unless it exists (e.g. before SQLite opens a new database)."""
    private_dir(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(create_private(path, exclusive=True))
