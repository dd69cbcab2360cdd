"""Precise ledger states under SIGKILL: `uncertain` only for answers really lost.

Real `newsletter issue send` subprocesses are killed with SIGKILL:
- while waiting out a definite refusal (the local SendGrid server answering 429 with Retry-After
  or 503; an aiosmtpd server refusing RCPT with 451): the batch is back to `pending`, so nothing
  is left `uncertain` and the next run mails everyone exactly once;
- while a request is in flight (the server took it and holds its answer): exactly that batch
  is `uncertain`, and it is the batch the server received.
- mid-batch over SMTP, while the server holds the answers to the copies in flight (one per
  connection): exactly those copies are `uncertain`; those answered are `sent`, the rest of the
  batch `pending`, and the next run mails each of those once.
And an SMTP server that drops the connection after DATA makes exactly that copy uncertain.
Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from newsletter.domain.delivery import DeliveryState
from newsletter.domain.model import IssueState
from newsletter.runtime.config import Config
from newsletter.store import Store
from newsletter.store.reader_tables import deliveries
from tests.delivery_helpers import write_sendgrid_config, write_smtp_config
from tests.integration.crash_helpers import (
    RECORD,
    LedgerWatch,
    addresses_received,
    kill,
    ledger,
    recording_sendgrid,
    run,
    start_send,
    started_issue,
    wait_for,
)
from tests.sendgrid_server import Fault, SendgridServer, read_records
from tests.smtp_server import smtp_controller

pytestmark = pytest.mark.integration

SUBSCRIBERS = 60
BATCH = 5
KILLS = 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SendgridServer]:
    with recording_sendgrid(tmp_path) as running:
        yield running


def test_kills_during_retry_waits_leave_nothing_uncertain(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """429/503 then SIGKILL during the wait, four times: no row uncertain, everyone once."""
    config_path = write_sendgrid_config(tmp_path, database_url, server.url, BATCH)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    watch = LedgerWatch(database_url, issue_id)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    try:
        for _ in range(KILLS):
            # A refusal after 0 to 2 accepted batches: a 429 saying when, or a bare 503.
            refusal = Fault("429", 2) if rng.random() < 0.5 else Fault("503")
            server.add_faults(*[Fault("slow", 0)] * rng.randrange(3), refusal)
            process = start_send(env, issue_id)
            # The refusal answered (its fault taken) and its batch back to pending: waiting.
            refused = wait_for(lambda: not server.faults and watch.waiting(), process, 60)
            assert refused, f"seed {seed}: the run ended without waiting"
            time.sleep(rng.uniform(0, 0.2))  # somewhere in the wait (0.5 s at least)
            assert watch.waiting(), f"seed {seed}: the wait ended before the kill"
            kill(process)
            assert watch.in_flight() == 0
    finally:
        watch.close()

    rows = ledger(config, issue_id)
    assert DeliveryState.UNCERTAIN not in rows.values(), f"seed {seed}"
    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (final["state"], final["sent"], final["uncertain"]) == ("sent", SUBSCRIBERS, 0)
    received = addresses_received(tmp_path)
    assert set(received) == set(ledger(config, issue_id)), f"seed {seed}: someone lost"
    assert max(received.values()) == 1, f"seed {seed}: someone mailed twice"


def test_kill_while_the_answer_is_held_leaves_exactly_that_batch_uncertain(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """The server took batch 3 and holds its answer: killed then, only batch 3 is uncertain."""
    config_path = write_sendgrid_config(tmp_path, database_url, server.url, BATCH)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    server.add_faults(Fault("slow", 0), Fault("slow", 0), Fault("slow", 60))
    record_file = tmp_path / RECORD
    process = start_send(env, issue_id)
    assert wait_for(lambda: len(read_records(record_file)) == 3, process, 60)
    kill(process)
    held = set(read_records(record_file)[2]["addresses"])

    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (final["state"], final["sent"], final["uncertain"]) == (
        IssueState.SENT,
        SUBSCRIBERS - BATCH,
        BATCH,
    )
    rows = ledger(config, issue_id)
    assert {email for email, state in rows.items() if state == DeliveryState.UNCERTAIN} == held
    received = addresses_received(tmp_path)
    assert set(received) == set(rows) and max(received.values()) == 1


@dataclass
class SmtpServer:
    """An aiosmtpd handler: refuses RCPT number `refuse_at` with 451, drops the connection
    after the DATA of `drop_after_data`, and records every message it takes."""

    refuse_at: int = 0
    drop_after_data: str = ""
    hold_after: int = 0  # messages taken before the server stops answering (0: never)
    rcpt_calls: int = 0
    received: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        self.rcpt_calls += 1
        if self.rcpt_calls == self.refuse_at:
            return "451 4.7.1 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.extend(envelope.rcpt_tos)  # taken: it will be delivered
        if self.hold_after and len(self.received) > self.hold_after:
            self.held.extend(envelope.rcpt_tos)
            await asyncio.sleep(3600)  # the answer never comes before the kill
        if self.drop_after_data in envelope.rcpt_tos:
            server.transport.abort()  # the answer is lost
            await asyncio.sleep(0)
        return "250 queued"


@pytest.fixture
def smtp_server() -> Iterator[tuple[SmtpServer, int]]:
    handler = SmtpServer()
    controller = smtp_controller(handler)
    yield handler, controller.port
    controller.stop()


def test_smtp_kills_during_retry_waits_leave_nothing_uncertain(
    database_url: str, tmp_path: Path, smtp_server: tuple[SmtpServer, int]
) -> None:
    """RCPT refused with 451 (definite), SIGKILL during the backoff: nothing uncertain; the
    copies of the batch sent before the refusal are sent, the rest goes once on the next run."""
    handler, port = smtp_server
    config_path = write_smtp_config(tmp_path, database_url, port, BATCH)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    watch = LedgerWatch(database_url, issue_id)
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    try:
        for _ in range(KILLS):
            handler.refuse_at = handler.rcpt_calls + rng.randrange(1, 2 * BATCH)
            process = start_send(env, issue_id)
            refused = wait_for(
                lambda: handler.rcpt_calls >= handler.refuse_at and watch.waiting(), process, 60
            )
            assert refused, f"seed {seed}: the run ended without waiting"
            time.sleep(rng.uniform(0, 0.2))
            assert watch.waiting(), f"seed {seed}: the wait ended before the kill"
            kill(process)
    finally:
        watch.close()
    assert DeliveryState.UNCERTAIN not in ledger(config, issue_id).values(), f"seed {seed}"
    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (final["state"], final["sent"], final["uncertain"]) == ("sent", SUBSCRIBERS, 0)
    received = Counter(handler.received)
    assert len(received) == SUBSCRIBERS, f"seed {seed}: someone lost"
    assert max(received.values()) == 1, f"seed {seed}: someone mailed twice"


@pytest.mark.parametrize("connections", [1, 3])
def test_smtp_kill_mid_batch_leaves_only_the_copies_in_flight_uncertain(
    database_url: str, tmp_path: Path, smtp_server: tuple[SmtpServer, int], connections: int
) -> None:
    """Batches of 30; the server answers some copies of the first batch, then holds the
    answer of each connection's next copy; SIGKILL. Only the held copies are uncertain."""
    handler, port = smtp_server
    # Under 9 copies taken in all, each connection has at least one of its 10 left to hold.
    handler.hold_after = random.randrange(1, 9)
    config_path = write_smtp_config(tmp_path, database_url, port, 30, connections)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    process = start_send(env, issue_id)
    held = wait_for(lambda: len(handler.held) == connections, process, 60)
    assert held, "the run ended without the server holding an answer"
    time.sleep(0.2)  # whatever the sender would still write, it writes now
    kill(process)
    handler.hold_after = 0
    assert len(handler.held) == connections
    rows = ledger(config, issue_id)
    answered = set(handler.received) - set(handler.held)
    assert {e for e, s in rows.items() if s == DeliveryState.SENT} == answered
    assert in_flight(config, issue_id) == set(handler.held)  # the rest: claimed, not begun
    assert Counter(rows.values())[DeliveryState.PENDING] == SUBSCRIBERS - 30
    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (final["sent"], final["uncertain"]) == (SUBSCRIBERS - connections, connections)
    rows = ledger(config, issue_id)
    assert {e for e, s in rows.items() if s == DeliveryState.UNCERTAIN} == set(handler.held)
    received = Counter(handler.received)
    assert len(received) == SUBSCRIBERS and max(received.values()) == 1


def in_flight(config: Config, issue_id: int) -> set[str]:
    """The addresses of the issue's rows in flight (sending, no answer read)."""
    store = Store.from_url(config.database_url)
    try:
        with store.engine.connect() as connection:
            return set(
                connection.execute(
                    sa.select(deliveries.c.email).where(
                        deliveries.c.issue_id == issue_id, deliveries.c.in_flight.is_(True)
                    )
                ).scalars()
            )
    finally:
        store.close()


def test_smtp_connection_dropped_after_data_makes_that_copy_uncertain(
    database_url: str, tmp_path: Path, smtp_server: tuple[SmtpServer, int]
) -> None:
    """The server takes u7's message and drops the line before answering: u7 alone is
    uncertain (never sent again), everyone else is sent exactly once."""
    handler, port = smtp_server
    handler.drop_after_data = "u7@example.org"
    config_path = write_smtp_config(tmp_path, database_url, port, BATCH)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)
    report = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert (report["state"], report["sent"], report["uncertain"]) == ("sent", SUBSCRIBERS - 1, 1)
    rows = ledger(config, issue_id)
    assert [e for e, state in rows.items() if state == DeliveryState.UNCERTAIN] == [
        "u7@example.org"
    ]
    again = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    assert again["sent"] == SUBSCRIBERS - 1
    received = Counter(handler.received)
    assert len(received) == SUBSCRIBERS and max(received.values()) == 1
