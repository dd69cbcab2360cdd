"""Shared by the crash tests: the recording SendGrid server, a started issue, `newsletter`
subprocesses, the ledger read back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from newsletter.domain.delivery import DeliveryState
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.store import Store
from newsletter.store.reader_tables import deliveries
from tests.conftest import ROOT, shared_path
from tests.delivery_helpers import bulk_subscribers, fake_render, make_issue
from tests.sendgrid_server import API_KEY, SendgridServer, read_records

RECORD = "received.jsonl"


@contextmanager
def recording_sendgrid(folder: Path, delay: float = 0.0) -> Iterator[SendgridServer]:
    """The local SendGrid server, checking requests against the shared schema and recording
    each one's addresses in `folder`/RECORD; `delay` holds every answer that long."""
    running = SendgridServer(
        shared_path("sendgrid", "tsg_mail_v3.json"),
        record_path=folder / RECORD,
        keep_bodies=False,
        delay=delay,
    ).start()
    try:
        yield running
    finally:
        running.stop()


def addresses_received(folder: Path) -> Counter[str]:
    """How many times the recording server in `folder` received each address."""
    return Counter(a for record in read_records(folder / RECORD) for a in record["addresses"])


def environment(config_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "NEWSLETTER_CONFIG": str(config_path),
        "SENDGRID_API_KEY": API_KEY,
        "NEWSLETTER_SECRET_KEY": "crash-test",
    }
    env.pop("NEWSLETTER_DATABASE_URL", None)
    return env


def newsletter(*args: str) -> list[str]:
    return [sys.executable, "-m", "newsletter.cli", *args]


def run(env: dict[str, str], *args: str) -> dict[str, Any]:
    """Run a `newsletter` command to its end; its JSON report."""
    done = subprocess.run(
        newsletter(*args), env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def started_issue(
    config_path: Path, subscribers: int
) -> tuple[dict[str, str], config_module.Config, int]:
    """The subprocesses' environment, the configuration, and an issue whose send has started
    (audience and render frozen): subprocesses resume it."""
    env = environment(config_path)
    config = config_module.load(config_path, env)
    services = wiring.build(config)
    try:
        services.store.migrate()
        issue_id = make_issue(services)
        bulk_subscribers(services, subscribers)
        # Start the send here (the renderer is not under test).
        issue = services.store.issues.get(issue_id)
        assert issue is not None
        services.store.deliveries.start(issue_id, services.clock())
        services.store.issues.freeze_render(issue_id, fake_render(issue))
    finally:
        services.close()
    return env, config, issue_id


def start_send(env: dict[str, str], issue_id: int) -> subprocess.Popen[bytes]:
    """`newsletter issue send` started in the background, its output discarded."""
    return subprocess.Popen(
        newsletter("issue", "send", str(issue_id), "--yes", "--json"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait()


def ledger(config: config_module.Config, issue_id: int) -> dict[str, str]:
    """Each delivery row's address and state."""
    return {email: state for email, state, _ in ledger_rows(config, issue_id)}


def ledger_rows(config: config_module.Config, issue_id: int) -> list[tuple[str, str, Any]]:
    """(email, state, not_before) of each delivery row of the issue."""
    services = wiring.build(config)
    try:
        with services.store.engine.connect() as connection:
            rows = connection.execute(
                sa.select(deliveries.c.email, deliveries.c.state, deliveries.c.not_before).where(
                    deliveries.c.issue_id == issue_id
                )
            ).all()
    finally:
        services.close()
    return [(email, state, not_before) for email, state, not_before in rows]


class LedgerWatch:
    """Reads the ledger of one issue while a subprocess sends it (one open connection pool)."""

    def __init__(self, database_url: str, issue_id: int) -> None:
        self.store = Store.from_url(database_url)
        self.issue_id = issue_id

    def waiting(self) -> bool:
        """Nothing in flight, and a batch back to pending until a not-before time to come."""
        now = datetime.now(UTC)
        with self.store.engine.connect() as connection:
            states = dict(
                connection.execute(
                    sa.select(deliveries.c.state, sa.func.max(deliveries.c.not_before))
                    .where(deliveries.c.issue_id == self.issue_id)
                    .group_by(deliveries.c.state)
                ).all()
            )
        due = states.get(DeliveryState.PENDING)
        return DeliveryState.SENDING not in states and due is not None and due > now

    def in_flight(self) -> int:
        """How many rows are `sending`."""
        return self.store.deliveries.counts(self.issue_id)[DeliveryState.SENDING]

    def close(self) -> None:
        self.store.close()


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], seconds: float
) -> bool:
    """Poll `condition` until it holds (True) or the process ends (False)."""
    deadline = time.monotonic() + seconds
    while process.poll() is None:
        if condition():
            return True
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)
    return False
