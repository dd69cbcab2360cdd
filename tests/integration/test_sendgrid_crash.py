"""Crash safety: a real `newsletter issue send` subprocess SIGKILLed mid-request, several times.

The issue is started in the test (audience frozen, render frozen), then a subprocess sends it
through the local SendGrid server, slowed so that kills land while a request is in flight. After
each kill the command is run again; at the end the server's record and the ledger must agree:
no address received twice, none lost (each received, or reported uncertain), and
`--resend-uncertain` completes the send. Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import random
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.domain.delivery import DeliveryState
from newsletter.domain.model import IssueState
from tests.delivery_helpers import write_sendgrid_config
from tests.integration.crash_helpers import (
    addresses_received,
    ledger,
    recording_sendgrid,
    run,
    start_send,
    started_issue,
)
from tests.sendgrid_server import SendgridServer

pytestmark = pytest.mark.integration

SUBSCRIBERS = 60
BATCH = 5
KILLS = 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SendgridServer]:
    with recording_sendgrid(tmp_path, delay=0.15) as running:
        yield running


def test_sigkill_at_random_points_never_mails_twice(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """Kill -9 mid-send several times: no address twice, none lost, uncertain ones reported."""
    config_path = write_sendgrid_config(tmp_path, database_url, server.url, BATCH)
    env, config, issue_id = started_issue(config_path, SUBSCRIBERS)

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    kills_landed = 0
    for _ in range(KILLS):
        seen = server.requests
        process = start_send(env, issue_id)
        deadline = time.monotonic() + 60
        while server.requests == seen and process.poll() is None:
            assert time.monotonic() < deadline, "the send never reached the server"
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.4))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills_landed += 1
        process.wait()
    assert kills_landed >= 1, f"seed {seed}: every run ended before its kill"

    final = run(env, "issue", "send", str(issue_id), "--yes", "--json")
    status = run(env, "issue", "status", str(issue_id), "--json")
    assert final == status
    assert status["state"] == IssueState.SENT
    assert status["total"] == SUBSCRIBERS and status["pending"] == 0

    received = addresses_received(tmp_path)
    twice = [address for address, n in received.items() if n > 1]
    assert twice == [], f"seed {seed}: mailed twice: {twice}"

    rows = ledger(config, issue_id)
    uncertain = {email for email, state in rows.items() if state == DeliveryState.UNCERTAIN}
    sent = {email for email, state in rows.items() if state == DeliveryState.SENT}
    assert sent <= set(received), f"seed {seed}: marked sent but never received"
    lost = set(rows) - set(received) - uncertain
    assert lost == set(), f"seed {seed}: lost {sorted(lost)}"
    assert status["uncertain"] == len(uncertain)
    assert status["sent"] + status["uncertain"] == SUBSCRIBERS
    assert uncertain, f"seed {seed}: no kill landed mid-request"

    after = run(env, "issue", "send", str(issue_id), "--yes", "--json", "--resend-uncertain")
    assert (after["sent"], after["uncertain"], after["state"]) == (SUBSCRIBERS, 0, "sent")
    received_after = addresses_received(tmp_path)
    assert set(received_after) == set(rows)
    assert {a for a, n in received_after.items() if n > 1} <= uncertain
