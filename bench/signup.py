"""Sign-up throughput against a live server on SQLite, compared with /healthz in the same run.

Starts `uvicorn` on a fresh SQLite database in a separate process (the real app, with its
outbox worker sending every confirmation email), then for --seconds keeps --concurrency
sign-ups in flight with unique addresses, and prints sustained sign-ups/s, latency
percentiles, the /healthz throughput measured the same way just before (through the same
server, middleware and client; /healthz pings the database), and their ratios. Targets:
sign-ups sustain at least 30% of the /healthz rate with a p99 at most 3x that of /healthz;
every answer is a 202 (none refused for a full queue), every 202 is a stored pending
subscriber, and the outbox worker sends every confirmation within --drain-seconds. Exits 1
when a target is missed.

    PYTHONPATH=src python bench/signup.py [--seconds 20] [--concurrency 8]

Latency grows with the requests kept in flight (Little's law: 32 in flight at 300/s is
~107 ms each on average), so the default concurrency is the one the p99 target is about.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from targets import Targets

# The targets, in one place (sign-up against /healthz measured the same way in the same run).
MIN_RATE_RATIO = 0.3
MAX_P99_RATIO = 3.0

CONFIG = """
[newsletter]
name = "Bench"
base_url = "http://127.0.0.1:{port}"
[database]
url = "sqlite:///{db}"
[email]
provider = "{provider}"
[email.file]
dir = "outbox"
[web]
host = "127.0.0.1"
port = {port}
[subscribe]
ip_per_minute = 0      # one client IP sends everything here
address_per_hour = 0
"""


def serve(config_path: str) -> None:
    """The server process: the app as `newsletter run` serves it, without the scheduler."""
    import uvicorn

    from newsletter.runtime import config, wiring
    from newsletter.runtime.process import server_settings
    from newsletter.web import create_app

    loaded = config.load(config_path, {**os.environ, "NEWSLETTER_SECRET_KEY": "bench"})
    services = wiring.build(loaded)
    services.store.migrate()
    app = create_app(services)
    uvicorn.run(app, **server_settings(loaded.settings.web), log_level="warning")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def provider_name() -> str:
    """The file provider (the shipped default) when this checkout has it, else memory."""
    try:
        import newsletter.deliver.file  # noqa: F401
    except ImportError:
        return "memory"
    return "file"


async def load(
    base: str, seconds: float, concurrency: int, signup: bool
) -> tuple[int, list[float], dict[int, int]]:
    """Keep `concurrency` requests in flight for `seconds`: (done, latencies, status counts)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    counter = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def one_client(worker: int) -> None:
            nonlocal counter
            while time.perf_counter() < deadline:
                counter += 1
                started = time.perf_counter()
                if signup:
                    email = f"bench{worker}.{counter}@example.org"
                    answer = await client.post("/subscribe", json={"email": email})
                else:
                    answer = await client.get("/healthz")
                latencies.append(time.perf_counter() - started)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        began = time.perf_counter()
        await asyncio.gather(*(one_client(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - began
    return int(len(latencies) / elapsed), latencies, statuses


def outbox_size(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        return int(connection.execute("SELECT count(*) FROM outbox").fetchone()[0])


def drain(db: Path, limit: float) -> float | None:
    """Seconds until the server's outbox worker has sent every owed email (None: not within)."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if outbox_size(db) == 0:
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--healthz-seconds", type=float, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--drain-seconds", type=float, default=180)
    parser.add_argument("--serve", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return 0

    folder = Path(tempfile.mkdtemp(prefix="bench-signup-"))
    port = free_port()
    db = folder / "bench.db"
    provider = provider_name()
    templates = Path(__file__).resolve().parent.parent / "templates"
    if templates.is_dir():  # the email templates, found next to the config as in a deployment
        (folder / "templates").symlink_to(templates)
    config_path = folder / "config.toml"
    config_path.write_text(CONFIG.format(port=port, db=db, provider=provider), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent / "src")}
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(config_path)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start")
            time.sleep(0.2)
        health_rate, health_lat, _ = asyncio.run(
            load(base, args.healthz_seconds, args.concurrency, signup=False)
        )
        rate, lat, statuses = asyncio.run(load(base, args.seconds, args.concurrency, signup=True))
        owed_at_end = outbox_size(db)
        drained_in = drain(db, args.drain_seconds)
    finally:
        server.terminate()
        server.wait(10)
    with sqlite3.connect(db) as connection:
        stored = connection.execute(
            "SELECT count(*) FROM subscribers WHERE status = 'pending'"
        ).fetchone()[0]
    accepted = statuses.get(202, 0)
    health_p99, p99 = percentile(health_lat, 0.99), percentile(lat, 0.99)
    rate_ratio, p99_ratio = rate / health_rate, p99 / health_p99
    print(f"provider: {provider}, concurrency {args.concurrency}, {os.cpu_count()} CPU(s)")
    print(
        f"healthz:  {health_rate} req/s, p50 {percentile(health_lat, 0.5):.1f} ms, "
        f"p99 {health_p99:.1f} ms"
    )
    print(
        f"sign-up:  {rate} req/s sustained over {args.seconds:.0f} s, "
        f"p50 {percentile(lat, 0.5):.1f} ms, p99 {p99:.1f} ms, "
        f"answers {dict(sorted(statuses.items()))}"
    )
    print(f"ratio sign-up / healthz: rate {rate_ratio:.2f}, p99 {p99_ratio:.2f}")
    sent_during = accepted - owed_at_end
    drained = f"drained {drained_in:.0f} s later" if drained_in is not None else "NOT drained"
    print(
        f"confirmation emails: {sent_during} sent during the run, {owed_at_end} owed at its end, "
        f"{drained} (outbox worker in the same process, yielding to requests)"
    )
    targets = Targets()
    targets.check(
        f"sign-up rate >= {MIN_RATE_RATIO:.0%} of /healthz",
        f"{rate_ratio:.0%}",
        rate_ratio >= MIN_RATE_RATIO,
    )
    targets.check(
        f"sign-up p99 <= {MAX_P99_RATIO}x that of /healthz",
        f"{p99_ratio:.2f}x",
        p99_ratio <= MAX_P99_RATIO,
    )
    answered = sum(statuses.values())
    targets.check("every sign-up answered 202", f"{accepted}/{answered}", accepted == answered)
    targets.check(
        "every 202 a stored pending subscriber",
        f"{stored} stored for {accepted}",
        stored == accepted,
    )
    targets.check(
        f"every confirmation sent within {args.drain_seconds:.0f} s of the run",
        drained,
        drained_in is not None,
    )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
