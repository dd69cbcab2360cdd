"""Benchmark: an SMTP send through the provider vs a bare smtplib loop, to a local aiosmtpd.

The project side: `SmtpProvider.send_batch` over batches of `--batch` readers (as the send
loop calls it, without the ledger), making each copy from the message template (personalise,
bytes, header check) and sending it over `--connections` parallel connections, each reused.
The baseline: the same copies built beforehand (untimed), sent with `smtplib.SMTP.sendmail`
by `--connections` threads, one connection each, in one uninterrupted loop. The server runs
in its own process and accepts everything. Rounds alternate between the two sides; medians
are compared. Target: the project within 1.3x of the baseline. Exits 1 on a miss.

    .venv/bin/python bench/smtp.py [--copies 1000] [--connections 4] [--batch 100]
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import statistics
import subprocess
import sys
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
from newsletter.deliver.smtp import SmtpProvider  # noqa: E402
from newsletter.domain.model import Recipient, RenderedMessage  # noqa: E402
from newsletter.render.renderer import Renderer  # noqa: E402
from newsletter.runtime import config as config_module  # noqa: E402

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
) -> int:
    """Every reader's copy through the provider, batch by batch; returns connections opened."""
    provider = SmtpProvider(
        sender=sender,
        host="127.0.0.1",
        port=port,
        batch_size=batch,
        connections=connections,
    )
    for start in range(0, len(readers), batch):
        result = provider.send_batch(rendered, readers[start : start + batch])
        assert not (result.failed or result.uncertain or result.deferred), result
    provider.close()
    return provider.connections_opened


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
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        project, baseline, opened = [], [], 0
        for number in range(args.rounds * 2):  # alternating which side goes first
            started = time.perf_counter()
            if (number + number // 2) % 2 == 0:
                bare_loop(port, sender.email, prebuilt, args.connections)
                baseline.append(time.perf_counter() - started)
            else:
                opened = provider_send(
                    port, rendered, sender, readers, args.connections, args.batch
                )
                project.append(time.perf_counter() - started)
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=30)

    project_s, baseline_s = statistics.median(project), statistics.median(baseline)
    ratio = project_s / baseline_s
    size_kb = sum(len(data) for _, data in prebuilt) / len(prebuilt) / 1000
    print(
        f"{args.copies} copies of {size_kb:.1f} KB, {args.connections} connections "
        f"(provider opened {opened}), batches of {args.batch}, median of {args.rounds} rounds"
    )
    print(
        f"bare smtplib loop, prebuilt:    {baseline_s:7.2f} s  "
        f"{args.copies / baseline_s:7.0f} copies/s"
    )
    print(
        f"provider, copies made per send: {project_s:7.2f} s  "
        f"{args.copies / project_s:7.0f} copies/s   ratio {ratio:.2f}x"
    )
    targets = Targets()
    targets.check(
        f"SMTP send within {MAX_RATIO}x of a bare smtplib loop", f"{ratio:.2f}x", ratio <= MAX_RATIO
    )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
