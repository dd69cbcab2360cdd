"""Benchmark: one issue sent by 1, 2 and 4 concurrent `newsletter issue send` processes.

PostgreSQL (a schema of its own on the local `test` database) and the local SendGrid-compatible
server in its own process, answering every request 50 ms late like a distant API. Each round
sends a fresh issue to the same subscribers and checks that the server received every address
exactly once. Prints the throughput of each round and the speed-up against one process.

Two sends are measured: the 20,000-subscriber send of the concurrency test (batches of 500),
and a 100,000-subscriber send in SendGrid's batches of 1,000. Each process pays about one
second of fixed cost (start-up, render, and for the first one freezing the audience), which
weighs on the small send; the target (at least 1.7x from 1 to 2 processes) is read on the
larger one, where sending dominates. Every round must also deliver each address exactly once.
The baseline, one process, does the same work as the others: the same send, the same server.
Exits 1 when a target is missed.

Usage: python bench/scale.py [--sends 20000:500,100000:1000] [--latency 0.05] [--postgres URL]
"""

from __future__ import annotations

import argparse
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from targets import Targets  # noqa: E402
from tests.delivery_helpers import (  # noqa: E402
    bulk_subscribers,
    make_issue,
    sender_processes,
    write_sendgrid_config,
)
from tests.sendgrid_server import read_records  # noqa: E402

from newsletter.domain.model import IssueState  # noqa: E402
from newsletter.runtime import config as config_module  # noqa: E402
from newsletter.runtime import wiring  # noqa: E402
from newsletter.store.issues import NewItem  # noqa: E402

# The target, in one place: the speed-up from 1 to 2 processes on the largest send.
MIN_SPEEDUP_1_TO_2 = 1.7


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sends", default="20000:500,100000:1000")
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    sends = [tuple(int(x) for x in send.split(":")) for send in args.sends.split(",")]
    targets = Targets()
    speedups = [
        measure(args.postgres, args.latency, n, batch, counts, targets) for n, batch in sends
    ]
    last = speedups[-1]
    if last is not None:
        targets.check(
            f"at least {MIN_SPEEDUP_1_TO_2}x from 1 to 2 processes on the largest send",
            f"{last:.2f}x",
            last >= MIN_SPEEDUP_1_TO_2,
        )
    return targets.exit_status()


def measure(
    postgres: str,
    latency: float,
    subscribers: int,
    batch: int,
    counts: list[int],
    targets: Targets,
) -> float | None:
    """Run the rounds for one send size; return the 1 -> 2 speed-up if both were measured."""
    schema = f"bench_scale_{secrets.token_hex(4)}"
    admin = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(postgres).update_query_dict({"options": f"-csearch_path={schema}"})
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    server, port = start_server(folder, latency)
    config_path = write_sendgrid_config(
        folder, url.render_as_string(hide_password=False), f"http://127.0.0.1:{port}", batch
    )
    services = wiring.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "b"}))
    try:
        services.store.migrate()
        issue_id = make_issue(services)
        bulk_subscribers(services, subscribers)
        print(
            f"{subscribers:,} subscribers, batches of {batch}, "
            f"server latency {latency * 1000:.0f} ms, PostgreSQL"
        )
        rates: dict[int, float] = {}
        for count in counts:
            before = len(read_records(folder / "received.jsonl"))
            started = time.perf_counter()
            processes = sender_processes(config_path, issue_id, count)
            for process in processes:
                _, stderr = process.communicate(timeout=3600)
                if process.returncode != 0:
                    raise SystemExit(f"a sender failed: {stderr.strip()}")
            elapsed = time.perf_counter() - started
            records = read_records(folder / "received.jsonl")[before:]
            received = Counter(address for r in records for address in r["addresses"])
            sent = services.store.deliveries.status(issue_id, IssueState.SENT).sent
            once = len(received) == subscribers and max(received.values(), default=0) == 1
            rates[count] = subscribers / elapsed
            print(
                f"  {count} process(es): {elapsed:6.2f} s  {rates[count]:8.0f} emails/s  "
                f"requests {len(records)}  sent {sent}"
            )
            targets.check(
                f"{subscribers:,} by {count} process(es): each address received once",
                f"{len(received):,} addresses, sent {sent:,}",
                once and sent == subscribers,
            )
            article = services.store.articles.recent()[0].id
            issue_id = services.store.issues.create(
                "N°{number}", [NewItem(article)], datetime.now(UTC)
            ).id
        for count, rate in rates.items():
            if count != counts[0]:
                print(f"  speed-up {counts[0]} -> {count}: {rate / rates[counts[0]]:.2f}x")
        return rates[2] / rates[1] if 1 in rates and 2 in rates else None
    finally:
        services.close()
        server.terminate()
        server.wait()
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def start_server(folder: Path, latency: float) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, str(ROOT / "tests" / "sendgrid_server.py")]
    command += ["--record", str(folder / "received.jsonl"), "--delay", str(latency)]
    # Like SendGrid, the server's own work is not on the sender's machine: schema validation
    # (covered by the tests and bench/send.py) would make the server the bottleneck here.
    command += ["--no-validate"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, int(server.stdout.readline())


if __name__ == "__main__":
    sys.exit(main())
