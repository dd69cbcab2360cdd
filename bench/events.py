"""Benchmark: SendGrid event webhook requests of 1,000 events, on PostgreSQL and SQLite.

Each request goes through what the webhook does once the body is read: the ECDSA signature
and timestamp checked, the JSON read into events, then the whole request applied in one
transaction (`apply_events`). The events are those a send brings: processed and delivered
for every copy (resolving uncertain deliveries), opens, some clicks, 1% hard bounces and 0.5%
unsubscriptions (taking readers off the list), every request posted twice (SendGrid retries
what timed out: the replay must change nothing and is timed too).

Baseline, in the same run on the same database: a bare INSERT of the same rows (event id,
kind, issue, delivery, time) into a table of the same columns, one transaction per request:
what storing the events costs with no verification, no dedupe and no state change.

Target: at least 20,000 events/s on PostgreSQL (first posts and replays together). SQLite's
figures are printed for comparison. Exits 1 when a target is missed.

Usage: python bench/events.py [--requests 20] [--postgres URL] [--no-sqlite]
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from schemas import own_schema  # noqa: E402
from targets import Targets  # noqa: E402

from newsletter.deliver import events as provider_events  # noqa: E402
from newsletter.domain.clock import utc_now  # noqa: E402
from newsletter.domain.delivery import DeliveryState  # noqa: E402
from newsletter.domain.model import ArticleDraft, FeedSource  # noqa: E402
from newsletter.domain.readers import SubscriberStatus  # noqa: E402
from newsletter.store import Store, reader_tables  # noqa: E402
from newsletter.store.issues import NewItem  # noqa: E402

MIN_EVENTS_PER_SECOND_POSTGRES = 20_000
EVENTS_PER_REQUEST = 1_000

_bare = sa.MetaData()
BARE_EVENTS = sa.Table(
    "bench_bare_events",
    _bare,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),
    sa.Column("issue_id", sa.Integer),
    sa.Column("delivery_id", sa.Integer),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    targets = Targets()
    key = ec.generate_private_key(ec.SECP256R1())
    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            rate = run("PostgreSQL", own_schema(args.postgres, "bench_events"), args.requests, key)
            targets.check(
                f"PostgreSQL events/s >= {MIN_EVENTS_PER_SECOND_POSTGRES:,}",
                f"{rate:,.0f}/s",
                rate >= MIN_EVENTS_PER_SECOND_POSTGRES,
            )
        if not args.no_sqlite:
            run("SQLite", f"sqlite:///{Path(folder) / 'events.db'}", args.requests, key)
    return targets.exit_status()


def run(label: str, url: str, requests: int, key: ec.EllipticCurvePrivateKey) -> float:
    """Post `requests` signed requests twice each; print and return the events per second."""
    store = Store.from_url(url)
    store.migrate()
    issue_id, delivery_ids = ledger(store, requests * EVENTS_PER_REQUEST // 3 + 1)
    bodies = [json.dumps(chunk).encode() for chunk in event_chunks(issue_id, delivery_ids)]
    bodies = bodies[:requests]
    public_key = base64.b64encode(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()

    baseline = bare_inserts(store.engine, bodies)
    timestamp = str(int(time.time()))
    signed = [(body, sign(key, timestamp, body)) for body in bodies + bodies]  # SendGrid's side
    started = time.perf_counter()
    applied = duplicates = 0
    reading = 0.0
    for body, signature in signed:
        began = time.perf_counter()
        provider_events.verify(public_key, body, signature, timestamp, utc_now())
        events = provider_events.read_events(body)
        reading += time.perf_counter() - began
        report = provider_events.apply_events(store.events, utc_now, events)
        applied += report.applied
        duplicates += report.duplicates
    elapsed = time.perf_counter() - started
    count = sum(len(json.loads(body)) for body in bodies)
    check_outcome(store, issue_id, applied, duplicates, count)
    store.engine.dispose()

    rate = 2 * count / elapsed
    base_rate = count / baseline
    print(f"{label}: {len(bodies)} requests of {EVENTS_PER_REQUEST} events, each posted twice")
    print(f"    webhook (verify + read + apply): {rate:,.0f} events/s ({elapsed:.2f} s)")
    print(f"    of which verify + read: {reading:.2f} s, apply: {elapsed - reading:.2f} s")
    print(f"    baseline, bare insert of the same rows: {base_rate:,.0f} events/s")
    print(f"    ratio webhook/baseline time per event: {base_rate / rate:.2f}x")
    return rate


def ledger(store: Store, count: int) -> tuple[int, list[int]]:
    """One issue whose `count` deliveries all ended uncertain (the answer was lost)."""
    now = datetime.now(UTC)
    store.feeds.sync([FeedSource("bench", "https://example.org/feed")])
    draft = ArticleDraft("bench", "g", "https://example.org/a", "Levée de fonds", "résumé", "",
                         None, None, None)  # fmt: skip
    store.articles.add(store.feeds.id_of("bench"), [draft], now)
    issue = store.issues.create("N°{number}", [NewItem(store.articles.recent()[0].id)], now)
    rows = [
        {
            "email": f"reader{i}@example.org",
            "status": SubscriberStatus.ACTIVE.value,
            "created_at": now,
            "confirmed_at": now,
        }
        for i in range(count)
    ]
    with store.engine.begin() as connection:
        connection.execute(reader_tables.subscribers.insert(), rows)
    store.deliveries.start(issue.id, now)
    with store.engine.begin() as connection:
        connection.execute(reader_tables.deliveries.update().values(state=DeliveryState.UNCERTAIN))
        ids = connection.execute(sa.select(reader_tables.deliveries.c.id).order_by("id")).scalars()
        return issue.id, list(ids)


def event_chunks(issue_id: int, delivery_ids: list[int]) -> list[list[dict[str, Any]]]:
    """The events of the send in requests of EVENTS_PER_REQUEST, as SendGrid posts them."""
    events: list[dict[str, Any]] = []
    stamp = int(time.time())
    for n, delivery_id in enumerate(delivery_ids):
        kinds = ["processed", "bounce" if n % 100 == 7 else "delivered", "open"]
        kinds += ["click"] if n % 10 == 3 else []
        kinds += ["unsubscribe"] if n % 200 == 11 else []
        for kind in kinds:
            events.append(
                {
                    "email": f"reader{n}@example.org",
                    "timestamp": stamp,
                    "event": kind,
                    "type": "bounce",
                    "reason": "550 5.1.1 user unknown" if kind == "bounce" else None,
                    "url": "https://example.org/a" if kind == "click" else None,
                    "sg_event_id": f"{kind}-{delivery_id}",
                    "sg_message_id": f"m{delivery_id}.filter0001",
                    "delivery_id": str(delivery_id),
                    "issue_id": str(issue_id),
                }
            )
    return [
        events[start : start + EVENTS_PER_REQUEST]
        for start in range(0, len(events) - EVENTS_PER_REQUEST + 1, EVENTS_PER_REQUEST)
    ]


def bare_inserts(engine: sa.Engine, bodies: list[bytes]) -> float:
    """Seconds to insert the same rows as plain INSERTs, a transaction per request."""
    _bare.create_all(engine)
    now = datetime.now(UTC)
    requests = [
        [
            {
                "event_id": raw["sg_event_id"],
                "kind": raw["event"],
                "issue_id": int(raw["issue_id"]),
                "delivery_id": int(raw["delivery_id"]),
                "received_at": now,
            }
            for raw in json.loads(body)
        ]
        for body in bodies
    ]
    started = time.perf_counter()
    for rows in requests:
        with engine.begin() as connection:
            connection.execute(BARE_EVENTS.insert(), rows)
    return time.perf_counter() - started


def check_outcome(store: Store, issue_id: int, applied: int, duplicates: int, events: int) -> None:
    """Every event applied once, every replay a duplicate, the ledger resolved."""
    counts = store.deliveries.counts(issue_id)
    if applied != events or duplicates != events:
        raise SystemExit(f"applied {applied} and {duplicates} duplicates of {events} events")
    if not counts.get(DeliveryState.SENT) or not counts.get(DeliveryState.FAILED):
        raise SystemExit(f"the ledger was not resolved: {counts}")


def sign(key: ec.EllipticCurvePrivateKey, timestamp: str, body: bytes) -> str:
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return base64.b64encode(signature).decode()


if __name__ == "__main__":
    sys.exit(main())
