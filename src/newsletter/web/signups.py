"""Sign-ups answered before they are stored, and the threads that store them.

A sign-up is answered (202) before any database work, so the answer says nothing about the
address; these threads store it right after, away from the request. The queue is bounded, so
its memory is: when it is full, a new sign-up waits for room before its answer. Clients are so
paced to the rate the database stores at, and every 202 is stored soon; only a sign-up that
finds no room within `wait_seconds` is refused (503, to retry later).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from newsletter.audience.dependencies import Audience
from newsletter.store.subscribers import SignupOutcome

log = logging.getLogger("newsletter.web")

SignUp = Callable[[Audience], SignupOutcome]

STORING_THREADS = 4
MAX_WAITING = 2000  # answered, not yet stored
WAIT_SECONDS = 10.0  # for room in a full queue, before 503


class SignupQueue:
    """Sign-ups answered and not yet stored. `audience` gives what storing one needs; `stored`,
    if given, is called after each (the outbox worker has a confirmation to send)."""

    def __init__(
        self,
        audience: Callable[[], Audience],
        stored: Callable[[], None] | None = None,
        limit: int = MAX_WAITING,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self._audience = audience
        self._stored = stored
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._threads = ThreadPoolExecutor(STORING_THREADS, thread_name_prefix="signup")
        self._waiting = 0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return self._waiting

    async def put(self, sign_up: SignUp) -> bool:
        """Queue `sign_up` for storing; while the queue is full, wait for room. False when none
        came within `wait_seconds`: the sign-up is not queued."""
        deadline = time.monotonic() + self.wait_seconds
        pause = 0.002  # doubled up to 20 ms: waiters do not spin, and a freed place is soon used
        while not self._take_place():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.02)
        self._threads.submit(self._store, sign_up)
        return True

    def close(self) -> None:
        """Store the sign-ups already answered, then stop the threads."""
        self._threads.shutdown(wait=True)

    def _take_place(self) -> bool:
        with self._lock:
            if self._waiting >= self.limit:
                return False
            self._waiting += 1
            return True

    def _store(self, sign_up: SignUp) -> None:
        try:
            outcome = sign_up(self._audience())
            log.debug("sign-up: %s", outcome)
            if self._stored is not None:
                self._stored()
        except Exception:  # the requester has had their answer: the log is the only witness
            log.exception("a sign-up accepted with 202 could not be stored")
        finally:
            with self._lock:
                self._waiting -= 1
