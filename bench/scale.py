"""Benchmark: one issue sent by 1, 2 and 4 concurrent `newsletter issue send` processes.

PostgreSQL (a schema of its own on the local `test` database) and the local SendGrid-compatible
server in its own process, answering every request 50 ms late like a distant API. Each round
sends a fresh issue to the same subscribers and checks that the server received every address
exactly once. Prints the throughput of each round and the speed-up against one process
(target: at least 1.7x from 1 to 2 processes).

Usage: python bench/scale.py [--subscribers 20000] [--batch 500] [--latency 0.05] [--postgres URL]
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

from tests.delivery_helpers import (  # noqa: E402
    bulk_subscribers,
    make_issue,
    sender_processes,
    write_sendgrid_config,
)
from tests.sendgrid_server import read_records  # noqa: E402

from newsletter import bootstrap  # noqa: E402
from newsletter import config as config_module  # noqa: E402
from newsletter.model import IssueState  # noqa: E402
from newsletter.store.issues import NewItem  # noqa: E402

SCHEMA = ROOT.parent / "shared" / "sendgrid" / "tsg_mail_v3.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--processes", default="1,2,4")
    args = parser.parse_args()

    schema = f"bench_scale_{secrets.token_hex(4)}"
    admin = sa.create_engine(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = sa.engine.make_url(args.postgres).update_query_dict(
        {"options": f"-csearch_path={schema}"}
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    server, port = start_server(folder, args.latency)
    try:
        config_path = write_sendgrid_config(
            folder,
            url.render_as_string(hide_password=False),
            f"http://127.0.0.1:{port}",
            args.batch,
        )
        services = bootstrap.build(config_module.load(config_path, {"NEWSLETTER_SECRET_KEY": "b"}))
        services.store.migrate()
        first_issue = make_issue(services)
        bulk_subscribers(services, args.subscribers)
        print(
            f"{args.subscribers:,} subscribers, batches of {args.batch}, "
            f"server latency {args.latency * 1000:.0f} ms, PostgreSQL"
        )
        results: dict[int, float] = {}
        issue_id = first_issue
        for count in [int(n) for n in args.processes.split(",")]:
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
            counts = services.store.deliveries.status(issue_id, IssueState.SENT)
            once = len(received) == args.subscribers and max(received.values()) == 1
            results[count] = args.subscribers / elapsed
            print(
                f"  {count} process(es): {elapsed:6.2f} s  {results[count]:8.0f} emails/s  "
                f"requests {len(records)}  sent {counts.sent}  "
                f"{'each address once' if once else 'DUPLICATES OR LOSSES'}"
            )
            issue_id = services.store.issues.create(
                "N°{number}", [NewItem(services.store.articles.recent()[0].id)], datetime.now(UTC)
            ).id
        base = results[min(results)]
        for count, rate in results.items():
            if count != min(results):
                print(f"  speed-up 1 -> {count}: {rate / base:.2f}x")
        if 2 in results and 1 in results:
            ok = results[2] / results[1] >= 1.7
            print(f"  target: at least 1.7x from 1 to 2 processes: {'OK' if ok else 'MISSED'}")
        services.close()
    finally:
        server.terminate()
        server.wait()
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def start_server(folder: Path, latency: float) -> tuple[subprocess.Popen[str], int]:
    command = [sys.executable, str(ROOT / "tests" / "sendgrid_server.py")]
    command += ["--record", str(folder / "received.jsonl"), "--delay", str(latency)]
    command += ["--schema", str(SCHEMA)] if SCHEMA.exists() else ["--no-validate"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, int(server.stdout.readline())


if __name__ == "__main__":
    main()
