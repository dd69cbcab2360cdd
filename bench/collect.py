"""Benchmark: collection of the real-feeds corpus, served from loopback.

Prints, measured in the same run:
  (a) a cold collect (fetch, parse, normalise, sanitise, store) against two baselines parsing
      the same bodies sequentially with feedparser:
      - plain `feedparser.parse(body)`, its defaults `sanitize_html=True,
        resolve_relative_uris=True`: feedparser doing the sanitising and link resolution the
        collect does with nh3. Target ratio <= 1.5.
      - like for like: `feedparser.parse(body, response_headers=..., sanitize_html=False,
        resolve_relative_uris=False)` with the project's date handlers, the very call the
        collect makes; the ratio shows what fetching, normalising, sanitising and storing
        add to parsing. Target ratio <= 2.5.
  (b) a second collect where every feed answers 304 Not Modified, as a share of the cold
      run: target <= 5%, every feed not modified.
  No feed of the corpus may fail.

Run: .venv/bin/python bench/collect.py   (skips when ../shared is absent)
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "real-feeds"
sys.path.insert(0, str(ROOT / "src"))

from targets import Targets  # noqa: E402


def _handler(bodies: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    etags = {name: f'"{hashlib.sha1(body).hexdigest()}"' for name, body in bodies.items()}

    class Handler(BaseHTTPRequestHandler):
        """Each body at /NAME with an ETag; 304 when the client already has it."""

        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            name = self.path.lstrip("/")
            if name not in bodies:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self.headers.get("If-None-Match") == etags[name]:
                self.send_response(304)
                self.send_header("ETag", etags[name])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(bodies[name])))
            self.send_header("ETag", etags[name])
            self.end_headers()
            self.wfile.write(bodies[name])

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) drops connections under concurrency; the client's SYN
    # retry then waits a whole second, which would be charged to collection.
    request_queue_size = 256


def _serve_forever(folder: str, ready: Any) -> None:
    bodies = {path.name: path.read_bytes() for path in Path(folder).glob("*.xml")}
    server = _Server(("127.0.0.1", 0), _handler(bodies))
    server.daemon_threads = True
    ready.put(f"http://127.0.0.1:{server.server_address[1]}")
    server.serve_forever()


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve the corpus from loopback, in its own process as a real web server would be:
    sharing this process's interpreter lock would charge the server's work to collection."""
    ready: multiprocessing.Queue[str] = multiprocessing.Queue()
    process = multiprocessing.Process(target=_serve_forever, args=(str(folder), ready))
    process.daemon = True
    process.start()
    try:
        yield ready.get(timeout=60)
    finally:
        process.terminate()
        process.join()


# The targets, in one place.
MAX_RATIO_TO_PLAIN_FEEDPARSER = 1.5
MAX_RATIO_LIKE_FOR_LIKE = 2.5
MAX_SHARE_ALL_NOT_MODIFIED = 0.05


def parse_plain(bodies: dict[str, bytes]) -> tuple[float, int]:
    """Seconds to parse every body with feedparser's defaults, and the entries read."""
    import feedparser

    started = time.perf_counter()
    entries = sum(len(feedparser.parse(body).entries) for body in bodies.values())
    return time.perf_counter() - started, entries


def parse_like_collect(bodies: dict[str, bytes], base: str) -> float:
    """Seconds to parse every body exactly as the collect calls feedparser."""
    import feedparser

    from newsletter.collect.parse import register_date_handlers

    register_date_handlers()
    started = time.perf_counter()
    for name, body in bodies.items():
        headers = {"content-location": f"{base}/{name}", "content-type": "application/xml"}
        feedparser.parse(
            body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
        )
    return time.perf_counter() - started


def main() -> int:
    if not CORPUS.exists():
        print(f"skipped: {CORPUS} is not available (the shared corpus is needed)")
        return 0

    from newsletter.runtime import wiring
    from newsletter.runtime.collection import collect
    from newsletter.runtime.config import from_mapping

    files = sorted(CORPUS.glob("*.xml"))
    bodies = {path.name: path.read_bytes() for path in files}
    megabytes = sum(map(len, bodies.values())) / 1e6

    with tempfile.TemporaryDirectory() as folder, serve(CORPUS) as base:
        plain_seconds, entries = parse_plain(bodies)
        like_seconds = parse_like_collect(bodies, base)
        raw = {
            "database": {"url": f"sqlite:///{folder}/bench.db"},
            "feeds": [{"name": Path(name).stem, "url": f"{base}/{name}"} for name in bodies],
            "collect": {"concurrency": 16},
        }
        config = from_mapping(raw, Path(folder) / "config.toml", {"NEWSLETTER_SECRET_KEY": "b"})
        services = wiring.build(config)
        services.store.migrate()
        try:
            started = time.perf_counter()
            cold = collect(services)
            cold_seconds = time.perf_counter() - started

            started = time.perf_counter()
            warm = collect(services)
            warm_seconds = time.perf_counter() - started
        finally:
            services.close()

    failed = [f"{o.name}: {o.error}" for o in cold.feeds if o.error]
    not_modified = sum(o.status.value == "not_modified" for o in warm.feeds)
    ratio_plain = cold_seconds / plain_seconds
    ratio_like = cold_seconds / like_seconds
    share = warm_seconds / cold_seconds
    print(f"corpus: {len(files)} feeds, {megabytes:.1f} MB, {entries} entries (feedparser)")
    print("sequential feedparser.parse of the same bodies:")
    print(f"  defaults (sanitize_html=True, resolve_relative_uris=True):   {plain_seconds:7.2f} s")
    print("  as collect (sanitize_html=False, resolve_relative_uris=False,")
    print(f"             response_headers, the project's date handlers):  {like_seconds:7.2f} s")
    print(
        f"(a) cold collect: {cold_seconds:.2f} s, "
        f"{cold.new_articles} articles stored, {len(failed)} feed(s) failed"
    )
    print(f"    ratio to feedparser defaults: {ratio_plain:.2f}   like for like: {ratio_like:.2f}")
    print(
        f"(b) all-304 collect: {warm_seconds:.2f} s, {share:.1%} of the cold run, "
        f"{not_modified}/{len(warm.feeds)} not modified"
    )
    for line in failed:
        print(f"    failed: {line}")

    targets = Targets()
    targets.check(
        f"cold collect / feedparser defaults <= {MAX_RATIO_TO_PLAIN_FEEDPARSER}",
        f"{ratio_plain:.2f}",
        ratio_plain <= MAX_RATIO_TO_PLAIN_FEEDPARSER,
    )
    targets.check(
        f"cold collect / feedparser as collect calls it <= {MAX_RATIO_LIKE_FOR_LIKE}",
        f"{ratio_like:.2f}",
        ratio_like <= MAX_RATIO_LIKE_FOR_LIKE,
    )
    targets.check("no feed of the corpus fails", f"{len(failed)} failed", not failed)
    targets.check(
        f"all-304 collect <= {MAX_SHARE_ALL_NOT_MODIFIED:.0%} of the cold run",
        f"{share:.1%}",
        share <= MAX_SHARE_ALL_NOT_MODIFIED,
    )
    targets.check(
        "every feed answers 304 on the second collect",
        f"{not_modified}/{len(warm.feeds)}",
        not_modified == len(warm.feeds),
    )
    return targets.exit_status()


if __name__ == "__main__":
    sys.exit(main())
