"""Who holds a claim: a worker name per process, and which such names are known dead.

A name is host:pid:boot:random (boot: the start of the kernel's boot id). A later process on the
same host takes a worker for dead when its pid no longer runs (or is a zombie) or when the
machine booted since; anything it cannot tell (another host, a pid that runs again) is alive,
so a claim is released early only when its holder surely cannot finish it.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Sequence
from functools import cache

_BOOT_ID = "/proc/sys/kernel/random/boot_id"


def default_worker() -> str:
    """A name for this process's claims (at most 64 characters)."""
    return f"{_host()}:{os.getpid()}:{boot_id()}:{secrets.token_hex(3)}"


def dead_local_workers(workers: Sequence[str]) -> list[str]:
    """The workers named after a process of this host that no longer exists."""
    host, boot = _host(), boot_id()
    dead = []
    for worker in workers:
        parts = worker.split(":")
        if parts[0] != host or len(parts) < 3 or not parts[1].isdigit():
            continue
        rebooted = len(parts) == 4 and bool(boot) and parts[2] != boot
        if rebooted or not _process_exists(int(parts[1])):
            dead.append(worker)
    return dead


@cache
def boot_id() -> str:
    """The first 8 characters of this boot's id; empty where the system does not tell."""
    try:
        with open(_BOOT_ID, encoding="ascii") as handle:
            return handle.read().strip().replace("-", "")[:8]
    except OSError:
        return ""


def _host() -> str:
    return socket.gethostname()[:40].replace(":", "_")


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    # A zombie (killed, not yet reaped by its parent) is dead for our purpose.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True
