"""Sign-ups answered before they are stored: a full queue paces new ones (they wait for room,
then 202) and refuses (503, Retry-After) only those that find no room in time; every queued
sign-up is stored, the ones still waiting when the app stops included."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, cast

import pytest

from newsletter.audience.dependencies import Audience
from newsletter.runtime.wiring import Services
from newsletter.store.subscribers import SignupOutcome
from newsletter.web import public as public_routes
from newsletter.web.signups import SignupQueue
from tests.desk_support import client_for


class Gate:
    """Sign-ups that block until the gate opens, recording who got stored."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.stored: list[str] = []

    def sign_up(self, who: str) -> Any:
        def store(_audience: Audience) -> SignupOutcome:
            self.open.wait(10)
            self.stored.append(who)
            return SignupOutcome.CREATED

        return store


def queue(limit: int, wait_seconds: float) -> SignupQueue:
    """A queue whose sign-ups need no database (theirs ignore the audience)."""
    return SignupQueue(lambda: cast(Audience, None), limit=limit, wait_seconds=wait_seconds)


def test_a_full_queue_makes_the_next_sign_up_wait_for_room() -> None:
    gate, signups = Gate(), queue(limit=1, wait_seconds=5)
    assert asyncio.run(signups.put(gate.sign_up("first")))
    threading.Timer(0.3, gate.open.set).start()
    started = time.monotonic()
    assert asyncio.run(signups.put(gate.sign_up("second")))  # waited for the first to be stored
    assert time.monotonic() - started >= 0.25
    signups.close()
    assert gate.stored == ["first", "second"]


def test_no_room_in_time_refuses_the_sign_up_and_stores_nothing_of_it() -> None:
    gate, signups = Gate(), queue(limit=1, wait_seconds=0.2)
    assert asyncio.run(signups.put(gate.sign_up("first")))
    assert not asyncio.run(signups.put(gate.sign_up("refused")))
    assert signups.waiting == 1
    gate.open.set()
    signups.close()  # what was answered is stored before the threads stop
    assert gate.stored == ["first"] and signups.waiting == 0


def test_a_storing_failure_frees_its_place() -> None:
    def broken(_audience: Audience) -> SignupOutcome:
        raise RuntimeError("database gone")

    signups = queue(limit=1, wait_seconds=2)
    assert asyncio.run(signups.put(broken))
    assert asyncio.run(signups.put(broken))  # the failed one's place came back
    signups.close()
    assert signups.waiting == 0


@pytest.mark.parametrize(("opens_after", "status"), [(0.3, 202), (None, 503)])
def test_the_route_answers_202_after_waiting_or_503_with_retry_after(
    services: Services, monkeypatch: pytest.MonkeyPatch, opens_after: float | None, status: int
) -> None:
    gate = Gate()
    real = public_routes.subscribers.request_subscription

    def held(audience: Audience, email: str, *args: Any) -> SignupOutcome:
        gate.open.wait(10)
        gate.stored.append(email)
        return real(audience, email, *args)

    monkeypatch.setattr(public_routes.subscribers, "request_subscription", held)
    client = client_for(services)
    signups = client.app.state.public.signups  # type: ignore[attr-defined]
    signups.limit, signups.wait_seconds = 1, 1.0
    assert client.post("/subscribe", json={"email": "first@example.org"}).status_code == 202
    if opens_after is not None:
        threading.Timer(opens_after, gate.open.set).start()
    second = client.post("/subscribe", json={"email": "second@example.org"})
    assert second.status_code == status
    if status == 503:
        assert second.headers["Retry-After"] == "30"
    gate.open.set()
    signups.close()
    stored = ["first@example.org", "second@example.org"][: 2 if status == 202 else 1]
    assert gate.stored == stored
    for email in stored:
        assert services.store.subscribers.by_email(email) is not None
    if status == 503:
        assert services.store.subscribers.by_email("second@example.org") is None
