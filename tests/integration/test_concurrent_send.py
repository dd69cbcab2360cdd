"""Several `newsletter issue send` processes on one issue, on PostgreSQL, through SendGrid.

Four processes start together on the same draft: one freezes the audience, all four claim
disjoint batches (SELECT ... FOR UPDATE SKIP LOCKED), and the local SendGrid server must
receive every address exactly once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from newsletter.domain.model import IssueState
from newsletter.runtime import config as config_module
from newsletter.runtime import wiring
from newsletter.store import reader_tables
from tests.conftest import SHARED
from tests.delivery_helpers import (
    bulk_subscribers,
    make_issue,
    sender_processes,
    write_sendgrid_config,
)
from tests.sendgrid_server import Fault, SendgridServer

pytestmark = pytest.mark.integration

SUBSCRIBERS = 20_000
BATCH = 500
PROCESSES = 4


@pytest.fixture
def server() -> Iterator[SendgridServer]:
    schema = SHARED / "sendgrid" / "tsg_mail_v3.json"
    running = SendgridServer(
        schema if schema.exists() else None,
        validate=schema.exists(),
        keep_bodies=False,
        delay=0.05,
    ).start()
    yield running
    running.stop()


def test_four_processes_send_each_address_exactly_once(
    postgres_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """20,000 subscribers, four concurrent senders: every address once, none lost."""
    config_path = write_sendgrid_config(tmp_path, postgres_url, server.url, BATCH)
    services = wiring.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "c"}))
    try:
        services.store.migrate()
        issue_id = make_issue(services)
        bulk_subscribers(services, SUBSCRIBERS)
    finally:
        services.close()

    processes = sender_processes(config_path, issue_id, PROCESSES)
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr

    received = Counter(server.received())
    assert server.invalid == []
    assert len(received) == SUBSCRIBERS
    assert max(received.values()) == 1
    assert server.accepted_count == SUBSCRIBERS // BATCH
    final = [json.loads(stdout) for stdout, _ in outputs]
    assert {report["state"] for report in final} <= {IssueState.SENDING, IssueState.SENT}
    services = wiring.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "c"}))
    try:
        counts = services.store.deliveries.status(issue_id, IssueState.SENT)
        assert (counts.total, counts.sent) == (SUBSCRIBERS, SUBSCRIBERS)
        issue = services.store.issues.get(issue_id)
        assert issue is not None and issue.state is IssueState.SENT
        with services.store.engine.connect() as connection:
            workers = connection.execute(
                sa.select(sa.func.count(sa.distinct(reader_tables.deliveries.c.worker)))
            ).scalar_one()
        assert workers >= 2, "the processes did not share the work"
    finally:
        services.close()


def test_concurrent_senders_under_rate_limits_send_each_address_once(
    postgres_url: str, tmp_path: Path, server: SendgridServer
) -> None:
    """Three senders while the server answers 429 (Retry-After 1 s) and 503 to some requests:
    refused batches go back to pending with a not-before time, whoever claims them next sends
    them, and every address is received exactly once, nobody left uncertain."""
    subscribers, batch = 3_000, 100
    config_path = write_sendgrid_config(tmp_path, postgres_url, server.url, batch)
    services = wiring.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "c"}))
    try:
        services.store.migrate()
        issue_id = make_issue(services)
        bulk_subscribers(services, subscribers)
    finally:
        services.close()
    refusals = [Fault("429", 1), Fault("slow", 0), Fault("503"), Fault("slow", 0)]
    server.add_faults(*refusals * 4)

    processes = sender_processes(config_path, issue_id, 3)
    outputs = [process.communicate(timeout=600) for process in processes]
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr

    received = Counter(server.received())
    assert not server.faults, "the faults were not all served"
    assert len(received) == subscribers and max(received.values()) == 1
    services = wiring.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "c"}))
    try:
        counts = services.store.deliveries.status(issue_id, IssueState.SENT)
        assert (counts.sent, counts.uncertain, counts.pending) == (subscribers, 0, 0)
    finally:
        services.close()
