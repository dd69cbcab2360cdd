"""Benchmark: an SMTP send through the provider vs a bare smtplib loop, to a local aiosmtpd.

The project side: `SmtpProvider` over batches of `--batch` readers, making each copy from the
message template (personalise, bytes, header check) and sending it over `--connections`
parallel connections, each reused; measured twice: without the ledger (`send_batch`), and as
the send loop calls it (`send_journaled`), each copy noted in a SQLite ledger as its body goes
and as its reply is read (one write per copy, deliver/journal.py).
The baseline: the same copies built beforehand (untimed), sent with `smtplib.SMTP.sendmail`
by `--connections` threads, one connection each, in one uninterrupted loop. The server runs
in its own process and accepts everything. Rounds alternate between the two sides; medians
are compared. Targets: both project sides within 1.3x of the baseline. Exits 1 on a miss.

    .venv/bin/python bench/smtp.py [--copies 1000] [--connections 4] [--batch 100]
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from render import realistic_issue  # noqa: E402
from targets import Targets  # noqa: E402

from newsletter.deliver import Sender, sender_of  # noqa: E402
from newsletter.deliver.copies import CopyTemplate  # noqa: E402
from newsletter.deliver.journal import LedgerJournal  # noqa: E402
from newsletter.deliver.smtp import SmtpProvider  # noqa: E402
from newsletter.domain.clock import utc_now  # noqa: E402
from newsletter.domain.delivery import Recipient, RenderedMessage  # noqa: E402
from newsletter.render.renderer import Renderer  # noqa: E402
from newsletter.runtime import config as config_module  # noqa: E402
from newsletter.store import Store, reader_tables  # noqa: E402

MAX_RATIO = 1.3  # the provider's time over the bare smtplib loop's

SERVER = """
import asyncio, sys
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 queued"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bare_loop(port: int, sender: str, copies: list[tuple[str, bytes]], connections: int) -> None:
    """`connections` threads, each sending its share with smtplib's sendmail on one connection."""
    size = -(-len(copies) // connections)

    def send(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
            for to, data in share:
                connection.sendmail(sender, [to], data)

    threads = [
        threading.Thread(target=send, args=(copies[start : start + size],))
        for start in range(0, len(copies), size)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def provider_send(
    port: int,
    rendered: RenderedMessage,
    sender: Sender,
    readers: list[Recipient],
    connections: int,
    batch: int,
    journal: LedgerJournal | None = None,
) -> int:
    """Every reader's copy through the provider, batch by batch (noted in `journal` if
    given); returns connections opened."""
    provider = SmtpProvider(
        sender=sender,
        host="127.0.0.1",
        port=port,
        batch_size=batch,
        connections=connections,
    )
    for start in range(0, len(readers), batch):
        part = readers[start : start + batch]
        if journal is None:
            result = provider.send_batch(rendered, part)
        else:
            result = provider.send_journaled(rendered, part, journal)
        assert not (result.failed or result.uncertain or result.deferred), result
    provider.close()
    return provider.connections_opened


WORKER = "bench:1:x"


def ledger(folder: Path, readers: list[Recipient]) -> Store:
    """A SQLite ledger (as `newsletter run` has by default) holding a row per reader."""
    store = Store.from_url(f"sqlite:///{folder / 'ledger.db'}")
    store.migrate()
    now = datetime.now(UTC)
    issue = store.issues.create("bench", [], now)
    with store.engine.begin() as connection:
        connection.execute(
            reader_tables.deliveries.insert(),
            [
                {"id": r.delivery_id, "issue_id": issue.id, "email": r.email, "state": "sending"}
                for r in readers
            ],
        )
    return store


def claimed(store: Store) -> None:
    """Every row `sending`, claimed by WORKER: the state a journaled batch starts from."""
    with store.engine.begin() as connection:
        connection.execute(reader_tables.deliveries.update().values(state="sending", worker=WORKER))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    config = config_module.load(ROOT / "config.toml", {})
    rendered = Renderer(config).render_issue(realistic_issue(12))
    sender = sender_of(config)
    base = config.settings.newsletter.base_url
    readers = [
        Recipient(n + 1, n + 1, f"lecteur{n}@example.org", f"Lectrice {n}", f"{base}/u/{n:08d}.s")
        for n in range(args.copies)
    ]
    now = datetime.now(UTC)
    template = CopyTemplate(rendered, sender)
    prebuilt = [(reader.email, template.copy(reader, now)) for reader in readers]

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    folder = tempfile.TemporaryDirectory()
    store = ledger(Path(folder.name), readers)
    sides: dict[str, list[float]] = {"bare": [], "provider": [], "journaled": []}
    opened = 0
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        for number in range(args.rounds):
            order = list(sides)[number % 3 :] + list(sides)[: number % 3]  # each side goes first
            for side in order:
                if side == "journaled":
                    claimed(store)
                started = time.perf_counter()
                if side == "bare":
                    bare_loop(port, sender.email, prebuilt, args.connections)
                else:
                    opened = provider_send(
                        port,
                        rendered,
                        sender,
                        readers,
                        args.connections,
                        args.batch,
                        # A new journal per round, as per send: the last replies it holds
                        # unwritten are the round's own.
                        LedgerJournal(store.deliveries, utc_now, WORKER)
                        if side == "journaled"
                        else None,
                    )
                sides[side].append(time.perf_counter() - started)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)
        store.close()
        folder.cleanup()

    baseline_s = statistics.median(sides["bare"])
    size_kb = sum(len(data) for _, data in prebuilt) / len(prebuilt) / 1000
    print(
        f"{args.copies} copies of {size_kb:.1f} KB, {args.connections} connections "
        f"(provider opened {opened}), batches of {args.batch}, median of {args.rounds} rounds"
    )
    print(
        f"bare smtplib loop, prebuilt:        {baseline_s:7.2f} s  "
        f"{args.copies / baseline_s:7.0f} copies/s"
    )
    ratios = {}
    for side, label in (
        ("provider", "provider, copies made per send:   "),
        ("journaled", "provider + ledger, a write a copy:"),
    ):
        seconds = statistics.median(sides[side])
        ratios[side] = seconds / baseline_s
        print(
            f"{label} {seconds:7.2f} s  {args.copies / seconds:7.0f} copies/s   "
            f"ratio {ratios[side]:.2f}x"
        )
    targets = Targets()
    for side, what in (("provider", "SMTP send"), ("journaled", "SMTP send with its ledger")):
        ratio = ratios[side]
        targets.check(
            f"{what} within {MAX_RATIO}x of a bare smtplib loop",
            f"{ratio:.2f}x",
            ratio <= MAX_RATIO,
        )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
