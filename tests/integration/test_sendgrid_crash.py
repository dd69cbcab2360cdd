"""Crash safety: a real `newsletter issue send` subprocess SIGKILLed mid-request, several times.

The issue is started in the test (audience frozen, render frozen), then a subprocess sends it
through the local SendGrid server, slowed so that kills land while a request is in flight. After
each kill the command is run again; at the end the server's record and the ledger must agree:
no address received twice, none lost (each received, or reported uncertain), and
`--resend-uncertain` completes the send. Runs on SQLite and, when configured, PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsletter.domain.model import DeliveryState, IssueState
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from tests.conftest import ROOT, shared_path
from tests.delivery_helpers import (
    bulk_subscribers,
    fake_render,
    make_issue,
    write_sendgrid_config,
)
from tests.sendgrid_server import API_KEY, SendgridServer, read_records

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


def _environment(config_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "NEWSLETTER_CONFIG": str(config_path),
        "SENDGRID_API_KEY": API_KEY,
        "NEWSLETTER_SECRET_KEY": "crash-test",
    }


def _newsletter(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsletter.cli", *args]


def _run(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        _newsletter(*args), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_sigkill_at_random_points_never_mails_twice(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """Kill -9 mid-send several times: no address twice, none lost, uncertain ones reported."""
    config_path = write_sendgrid_config(tmp_path, database_url, server.url, BATCH)
    env = _environment(config_path)
    config = config_module.load(config_path, env)
    services = wiring.build(config)
    try:
        services.store.migrate()
        issue_id = make_issue(services)
        bulk_subscribers(services, SUBSCRIBERS)
        # Start the send here (the renderer is not under test): the subprocess resumes it.
        issue = services.store.issues.get(issue_id)
        assert issue is not None
        services.store.deliveries.start(issue_id, services.clock())
        services.store.issues.freeze_render(issue_id, fake_render(issue))
    finally:
        services.close()

    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    kills_landed = 0
    for _ in range(KILLS):
        seen = server.requests
        process = subprocess.Popen(
            _newsletter("issue", "send", str(issue_id), "--yes", "--json"),
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

    final = _run(env, "issue", "send", str(issue_id), "--yes", "--json")
    status = _run(env, "issue", "status", str(issue_id), "--json")
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

    rows = _ledger(config, issue_id)
    uncertain = {email for email, state in rows.items() if state == DeliveryState.UNCERTAIN}
    sent = {email for email, state in rows.items() if state == DeliveryState.SENT}
    assert sent <= set(received), f"seed {seed}: marked sent but never received"
    lost = set(rows) - set(received) - uncertain
    assert lost == set(), f"seed {seed}: lost {sorted(lost)}"
    assert status["uncertain"] == len(uncertain)
    assert status["sent"] + status["uncertain"] == SUBSCRIBERS
    assert uncertain, f"seed {seed}: no kill landed mid-request"

    after = _run(env, "issue", "send", str(issue_id), "--yes", "--json", "--resend-uncertain")
    assert (after["sent"], after["uncertain"], after["state"]) == (SUBSCRIBERS, 0, "sent")
    received_after = Counter(
        address
        for record in read_records(tmp_path / "received.jsonl")
        for address in record["addresses"]
    )
    assert set(received_after) == set(rows)
    assert {a for a, n in received_after.items() if n > 1} <= uncertain


def _received(record_file: Path) -> Counter[str]:
    """How many times the server accepted each address (read back from its record file)."""
    return Counter(a for record in read_records(record_file) for a in record["addresses"])


def _ledger(config: config_module.Config, issue_id: int) -> dict[str, str]:
    import sqlalchemy as sa

    from newsletter.store.tables import deliveries

    services = wiring.build(config)
    try:
        with services.store.engine.connect() as connection:
            rows = connection.execute(
                sa.select(deliveries.c.email, deliveries.c.state).where(
                    deliveries.c.issue_id == issue_id
                )
            ).all()
    finally:
        services.close()
    return {email: state for email, state in rows}
