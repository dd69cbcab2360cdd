"""Benchmark of the SendGrid send path against the local SendGrid-compatible server.

(a) 100,000 subscribers: the number of HTTP requests (target: one per 1,000) and the
    end-to-end time of `send_issue` (ledger claims and updates, tokens, payloads, HTTP)
    against a bare loop doing the same work but the ledger: signing the same unsubscribe
    and click tokens (12 tracked articles per copy, and the preferences link), building the
    same payloads with the provider, serialising them and POSTing them through the same HTTP
    stack (urllib, as the SendGrid SDK, a connection per request).
    Target ratio <= 2. The ratio to the POSTs alone is printed beside it.
(b) 1,000,000 subscribers: the peak RSS of a separate process running the whole send
    (`newsletter issue send` of a draft, as in production: it renders the issue, freezes the
    audience and sends). Target < 100 MB.

The server runs in its own process so it does not share our interpreter, and does not
validate while timed: it stands for SendGrid, whose work is not ours, and its schema check
(several times longer than the POST itself) would be added to both sides of the ratio and
pull it towards 1. Instead every payload of (a) is checked, untimed, with the server's own
validator against ../shared/sendgrid/tsg_mail_v3.json when that file exists. Exits 1 when a
target is missed.

Usage: python bench/send.py [--subscribers 100000] [--rss-subscribers 1000000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from schemas import own_schema  # noqa: E402
from targets import Targets  # noqa: E402
from tests.delivery_helpers import write_sendgrid_config  # noqa: E402
from tests.sendgrid_server import SendgridServer  # noqa: E402

from newsletter.deliver.segments import CopyLinks  # noqa: E402
from newsletter.deliver.sendgrid import SendgridProvider  # noqa: E402
from newsletter.domain.delivery import Placeholders, Recipient, RenderedMessage  # noqa: E402
from newsletter.domain.model import ArticleDraft, FeedSource  # noqa: E402
from newsletter.domain.readers import SubscriberStatus  # noqa: E402
from newsletter.runtime import config as config_module  # noqa: E402
from newsletter.runtime import wiring  # noqa: E402
from newsletter.runtime.curation import unsubscribe_urls  # noqa: E402
from newsletter.runtime.sending import send_issue  # noqa: E402
from newsletter.store import reader_tables  # noqa: E402
from newsletter.store.issues import NewItem  # noqa: E402

SCHEMA = ROOT.parent / "shared" / "sendgrid" / "tsg_mail_v3.json"
API_KEY = "SG.test-key"


# The targets, in one place.
RECIPIENTS_PER_REQUEST = 1000
MAX_RATIO_TO_BARE_LOOP = 2.0
MAX_PEAK_RSS_MB = 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rss-subscribers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="run on this PostgreSQL URL instead")
    args = parser.parse_args()
    targets = Targets()
    with tempfile.TemporaryDirectory(prefix="bench-send-") as folder:
        throughput(Path(folder) / "a", args.subscribers, args.postgres, targets)
        if args.rss_subscribers:
            peak_rss(Path(folder) / "b", args.rss_subscribers, args.postgres, targets)
    return targets.exit_status()


def throughput(folder: Path, count: int, postgres: str, targets: Targets) -> None:
    server, port = start_server(folder)
    try:
        config_path = setup(folder, port, count, postgres)
        config = config_module.load(config_path, environment(config_path))
        services = wiring.build(config)
        issue_id = 1
        started = time.perf_counter()
        counts = send_issue(services, issue_id)
        send_seconds = time.perf_counter() - started
        requests = record_lines(folder)
        provider = services.provider
        assert isinstance(provider, SendgridProvider)

        # The baseline, after the send so that it warms nothing for it: the same work but the
        # ledger, in a bare loop.
        started = time.perf_counter()
        payloads = build_payloads(services, issue_id)
        build_seconds = time.perf_counter() - started
        services.close()
        started = time.perf_counter()
        for body in payloads:
            post(port, body)
        post_seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    invalid = schema_errors(payloads)
    bare_seconds = build_seconds + post_seconds
    ratio = send_seconds / bare_seconds
    expected_requests = -(-count // RECIPIENTS_PER_REQUEST)
    print(f"(a) {count:,} subscribers")
    print(f"    HTTP requests: {requests} (provider made {provider.requests_made})")
    print(f"    sent: {counts.sent:,}  state: {counts.state}")
    print(f"    send_issue end to end: {send_seconds:.2f} s ({counts.sent / send_seconds:,.0f}/s)")
    print(
        f"    bare loop: {bare_seconds:.2f} s = building the {len(payloads)} payloads (tokens, "
        f"JSON) {build_seconds:.2f} s + POSTing them {post_seconds:.2f} s"
    )
    print(
        f"    ratio send_issue / bare loop: {ratio:.2f}  "
        f"(to the POSTs alone: {send_seconds / post_seconds:.2f})"
    )
    targets.check(
        f"(a) one request per {RECIPIENTS_PER_REQUEST:,} recipients",
        f"{requests} for {expected_requests}",
        requests == provider.requests_made == expected_requests,
    )
    targets.check("(a) every subscriber sent", f"{counts.sent:,}/{count:,}", counts.sent == count)
    targets.check(
        f"(a) send_issue / bare loop building and POSTing the payloads <= {MAX_RATIO_TO_BARE_LOOP}",
        f"{ratio:.2f}",
        ratio <= MAX_RATIO_TO_BARE_LOOP,
    )
    if invalid is None:
        print(f"    payloads not checked: {SCHEMA} is not available")
    else:
        targets.check(
            "(a) every payload valid against the SendGrid schema",
            f"{len(invalid)} of {len(payloads)} invalid{': ' + invalid[0] if invalid else ''}",
            not invalid,
        )


def schema_errors(payloads: list[bytes]) -> list[str] | None:
    """The first error of each payload SendGrid's schema refuses; None without the schema."""
    if not SCHEMA.exists():
        return None
    checker = SendgridServer(schema_path=SCHEMA)
    found = []
    for body in payloads:
        errors = checker.check(json.loads(body))
        if errors:
            found.append(f"{errors[0]['field']}: {errors[0]['message']}")
    return found


def peak_rss(folder: Path, count: int, postgres: str, targets: Targets) -> None:
    server, port = start_server(folder)
    try:
        started = time.perf_counter()
        config_path = setup(folder, port, count, postgres, start=False)
        setup_seconds = time.perf_counter() - started
        env = environment(config_path)
        started = time.perf_counter()
        returncode, stdout, stderr, peak_kb = run_measured(
            [sys.executable, "-m", "newsletter.cli", "issue", "send", "1", "--yes", "--json"],
            env,
            folder,
        )
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    if returncode != 0:
        raise SystemExit(f"send failed: {stderr[-2000:]}")
    counts = json.loads(stdout)
    peak_mb = peak_kb / 1024
    requests = record_lines(folder)
    expected_requests = -(-count // RECIPIENTS_PER_REQUEST)
    print(f"(b) {count:,} subscribers (setup {setup_seconds:.0f} s)")
    print(f"    sent: {counts['sent']:,} in {seconds:.1f} s ({counts['sent'] / seconds:,.0f}/s)")
    print(f"    HTTP requests: {requests}")
    print(f"    peak RSS of the send process: {peak_mb:.0f} MB")
    targets.check(
        f"(b) one request per {RECIPIENTS_PER_REQUEST:,} recipients",
        f"{requests} for {expected_requests}",
        requests == expected_requests,
    )
    targets.check(
        "(b) every subscriber sent", f"{counts['sent']:,}/{count:,}", counts["sent"] == count
    )
    targets.check(
        f"(b) peak RSS of the send process < {MAX_PEAK_RSS_MB} MB",
        f"{peak_mb:.0f} MB",
        peak_mb < MAX_PEAK_RSS_MB,
    )


# Forks and execs the measured command, then writes its peak RSS (KB) to the file named first.
# A child's ru_maxrss starts at its parent's size at the fork and survives exec: forked from
# this benchmark (large after part (a)), the send would be charged with the benchmark's memory.
# Forked from this small fresh interpreter instead, it is charged with its own.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as report:
    report.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(argv: list[str], env: dict[str, str], folder: Path) -> tuple[int, str, str, int]:
    """Run `argv`; its exit status, output, errors and its own peak RSS in KB (ru_maxrss of
    that one process, read by wait4 in a small launcher: see LAUNCHER)."""
    out_path, err_path, rss_path = folder / "send.out", folder / "send.err", folder / "send.rss"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        launched = [sys.executable, "-c", LAUNCHER, str(rss_path), *argv]
        returncode = subprocess.run(launched, env=env, stdout=out, stderr=err).returncode
    return (
        returncode,
        out_path.read_text(encoding="utf-8"),
        err_path.read_text(encoding="utf-8", errors="replace"),
        int(rss_path.read_text()),
    )


def start_server(folder: Path) -> tuple[subprocess.Popen[str], int]:
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(ROOT / "tests" / "sendgrid_server.py")]
    command += ["--record", str(folder / "received.jsonl"), "--no-validate"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    return server, int(server.stdout.readline())


def record_lines(folder: Path) -> int:
    path = folder / "received.jsonl"
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def environment(config_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "NEWSLETTER_CONFIG": str(config_path),
        "SENDGRID_API_KEY": API_KEY,
        "NEWSLETTER_SECRET_KEY": "bench",
        "NEWSLETTER_DATABASE_URL": "",
    }


def setup(folder: Path, port: int, count: int, postgres: str, start: bool = True) -> Path:
    """A config, a migrated database, `count` subscribers, one issue: started with its render
    when `start`, else a draft the send renders and starts itself."""
    folder.mkdir(parents=True, exist_ok=True)
    url = own_schema(postgres, "bench_send") if postgres else f"sqlite:///{folder / 'bench.db'}"
    path: Path = write_sendgrid_config(
        folder, url, f"http://127.0.0.1:{port}", batch_size=RECIPIENTS_PER_REQUEST
    )
    config = config_module.load(path, environment(path))
    services = wiring.build(config)
    store = services.store
    store.migrate()
    now = datetime.now(UTC)
    store.feeds.sync([FeedSource("bench", "https://example.org/feed")])
    draft = ArticleDraft("bench", "g", "https://example.org/a", "Levée de fonds", "résumé", "",
                         None, None, None)  # fmt: skip
    store.articles.add(store.feeds.id_of("bench"), [draft], now)
    issue = store.issues.create("N°{number}", [NewItem(store.articles.recent()[0].id)], now)
    insert_subscribers(services, count, now)
    if start:
        store.deliveries.start(issue.id, now)
        store.issues.freeze_render(issue.id, digest(issue.id))
    services.close()
    return path


def insert_subscribers(services: wiring.Services, count: int, now: datetime) -> None:
    chunk = 20_000
    with services.store.engine.begin() as connection:
        for start in range(0, count, chunk):
            connection.execute(
                reader_tables.subscribers.insert(),
                [
                    {
                        "email": f"reader{i}@example.org",
                        "name": f"Zoé Lecteur {i}",
                        "status": SubscriberStatus.ACTIVE.value,
                        "created_at": now,
                        "confirmed_at": now,
                    }
                    for i in range(start, min(count, start + chunk))
                ],
            )


def digest(issue_id: int) -> RenderedMessage:
    """A digest-sized render (about 60 KB of inlined HTML) holding the placeholders."""
    article = (
        '<tr><td style="padding:16px;font-family:Helvetica,Arial,sans-serif;color:#1a1a1a">'
        '<img src="https://example.org/img.jpg" width="568" style="display:block;width:100%">'
        '<h2 style="font-size:20px;margin:12px 0">La start-up française lève 12 millions</h2>'
        '<p style="font-size:15px;line-height:1.5">Résumé de l\'article, écrit par la rédaction '
        "pour présenter la levée de fonds et ses enjeux pour l'écosystème.</p>"
        '<a href="{link}" style="color:#e4003a">Lire l\'article</a></td></tr>'
    )
    spelled = Placeholders.fresh()
    # Tracked links, as `[links] track_clicks` (the default) renders them: 12 articles.
    cards = "".join(article.format(link=spelled.click(i % 12 + 1)) for i in range(80))
    html = (
        f"<html><body><p>Bonjour {spelled.name}</p><table>"
        + cards
        + f'</table><a href="{spelled.unsubscribe_url}">Se désinscrire</a>'
        + f'<a href="{spelled.preferences_url}">Mes rubriques</a></body></html>'
    )
    text = f"Bonjour {spelled.name}\n" + "La start-up lève 12 millions. Résumé.\n" * 80
    return RenderedMessage(
        subject="MaddyNews n°1 : les levées de fonds de la semaine",
        preheader="",
        html=html,
        text=text + f"Se désinscrire : {spelled.unsubscribe_url}\n",
        issue_id=issue_id,
        placeholders=spelled,
    )


def build_payloads(services: wiring.Services, issue_id: int) -> list[bytes]:
    """The request bodies the send will post, built up front for the bare loop."""
    provider = services.provider
    assert isinstance(provider, SendgridProvider)
    message = services.store.issues.frozen_render(issue_id)
    assert message is not None
    unsubscribe_url = unsubscribe_urls(services)  # as the send signs them
    base_url = services.config.settings.newsletter.base_url
    copy_links = CopyLinks(signer=lambda: services.signer, base_url=base_url)
    bodies: list[bytes] = []
    with services.store.engine.connect() as connection:
        rows = connection.execute(
            reader_tables.deliveries.select()
            .where(reader_tables.deliveries.c.issue_id == issue_id)
            .order_by(reader_tables.deliveries.c.id)
        ).mappings()
        batch: list[Recipient] = []
        for row in rows:
            unsubscribe = unsubscribe_url(row["subscriber_id"])
            batch.append(
                Recipient(
                    row["id"],
                    row["subscriber_id"],
                    row["email"],
                    row["name"],
                    unsubscribe,
                    copy_links(row["id"], unsubscribe, message),
                )
            )
            if len(batch) == RECIPIENTS_PER_REQUEST:
                bodies.append(json.dumps(provider.payload(message, batch)).encode())
                batch = []
        if batch:
            bodies.append(json.dumps(provider.payload(message, batch)).encode())
    return bodies


def post(port: int, body: bytes) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v3/mail/send",
        data=body,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


if __name__ == "__main__":
    sys.exit(main())
