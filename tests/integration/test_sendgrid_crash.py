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
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsletter.domain.model import DeliveryState, IssueState
from newsletter.runtime import config as config_module
from tests.conftest import shared_path
from tests.delivery_helpers import write_sendgrid_config
from tests.integration.crash_helpers import environment, ledger, newsletter, run, started_issue
from tests.sendgrid_server import SendgridServer, read_records

pytestmark = pytest.mark.integration

SUBSCRIBERS = 60
BATCH = 5
KILLS = 4


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SendgridServer]:
    running = SendgridServer(
        shared_path("sendgrid", "tsg_mail_v3.json"),
        record_path=tmp_path / "received.jsonl",
        keep_bodies=False,
        delay=0.15,
    ).start()
    yield running
    running.stop()


def test_sigkill_at_random_points_never_mails_twice(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """Kill -9 mid-send several times: no address twice, none lost, uncertain ones reported."""
    config_path = write_sendgrid_config(tmp_path, database_url, server.url, BATCH)
    env = environment(config_path)
    config = config_module.load(config_path, env)
    issue_id = started_issue(config, SUBSCRIBERS)

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    kills_landed = 0
    for _ in range(KILLS):
        seen = server.requests
        process = subprocess.Popen(
            newsletter("issue", "send", str(issue_id), "--yes", "--json"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
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

    received = Counter(
        address
        for record in read_records(tmp_path / "received.jsonl")
        for address in record["addresses"]
    )
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
    received_after = Counter(
        address
        for record in read_records(tmp_path / "received.jsonl")
        for address in record["addresses"]
    )
    assert set(received_after) == set(rows)
    assert {a for a, n in received_after.items() if n > 1} <= uncertain
