"""The transactional outbox under SIGKILL: a real `newsletter run` is killed while its outbox
worker holds claims on confirmations it has not sent yet (and one request in flight, its answer
held by the local SendGrid server). Restarted, the new process sends the claimed ones at once,
long before their 5-minute lease runs out, and nobody gets a confirmation twice. A confirmation
handed to the provider when the kill came may have gone or not (on a loaded machine the kill
can land after the worker marked it in flight and before its request arrived): it is never
sent again, so it arrives at most once; every other one arrives exactly once."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from newsletter.store import Store
from newsletter.store.reader_tables import outbox, subscribers
from tests.conftest import free_port
from tests.delivery_helpers import write_email_config
from tests.integration.crash_helpers import (
    addresses_received,
    environment,
    newsletter,
    recording_sendgrid,
)
from tests.sendgrid_server import SendgridServer

pytestmark = pytest.mark.integration

SIGNUPS = 8
SOON = 30.0  # seconds: far below the 5-minute lease a claim of a dead worker used to wait out


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SendgridServer]:
    # Each answer comes late: the worker is caught mid-flush.
    with recording_sendgrid(tmp_path, delay=0.4) as running:
        yield running


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as handle:
        return subprocess.Popen(newsletter("run"), env=env, stdout=handle, stderr=subprocess.STDOUT)


def _healthy(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"`newsletter run` never answered: {log.read_text(errors='replace')}")


def _claimed_unsent(store: Store) -> int:
    """Outbox rows claimed under a live lease and not yet handed to the provider."""
    with store.engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count())
                .select_from(outbox)
                .where(
                    outbox.c.worker.is_not(None),
                    outbox.c.in_flight.is_(False),
                    outbox.c.not_before > datetime.now(UTC),
                )
            ).scalar_one()
        )


def _in_flight_addresses(store: Store) -> set[str]:
    """The addresses whose confirmation the worker had handed to the provider."""
    with store.engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(subscribers.c.email)
                .join(outbox, outbox.c.subscriber_id == subscribers.c.id)
                .where(outbox.c.in_flight.is_(True))
            ).scalars()
        )


def test_killed_run_holding_claims_sends_them_at_once_after_restart(
    database_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    port = free_port()
    config_path = write_email_config(
        tmp_path,
        database_url,
        f'\n[email]\nprovider = "sendgrid"\n\n[email.sendgrid]\nhost = "{server.url}"\n',
        extra=f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n',
    )
    env = environment(config_path)
    log = tmp_path / "run.log"
    store = Store.from_url(database_url)
    store.migrate()
    process = _start(env, log)
    try:
        _healthy(port, process, log)
        addresses = [f"reader{i}@example.org" for i in range(SIGNUPS)]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for address in addresses:
                assert http.post("/subscribe", json={"email": address}).status_code == 202
        # Kill while a confirmation is in flight and others are claimed but not sent.
        deadline = time.monotonic() + 60
        while not (server.accepted_count >= 1 and _claimed_unsent(store) > 0):
            assert time.monotonic() < deadline, "the worker never held unsent claims"
            assert server.accepted_count < SIGNUPS, "everything went before the kill"
            time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        process.wait()
        held = _claimed_unsent(store)
        assert held > 0
        before = server.accepted_count
        maybe_gone = _in_flight_addresses(store)
        certain = Counter(address for address in addresses if address not in maybe_gone)

        restarted = time.monotonic()
        process = _start(env, log)
        while not certain <= addresses_received(tmp_path):
            assert time.monotonic() - restarted < SOON, (
                f"after the restart: {addresses_received(tmp_path)} of {addresses}"
            )
            assert max(addresses_received(tmp_path).values()) == 1, "a confirmation went twice"
            time.sleep(0.1)
        assert server.accepted_count - before >= held
        time.sleep(1.0)  # nothing more comes: every confirmation went once at most
        received = addresses_received(tmp_path)
        assert max(received.values()) == 1, "a confirmation went twice"
        assert set(received) - set(certain) <= maybe_gone and set(certain) <= set(received)
        assert store.outbox.count() == 0
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        store.close()
