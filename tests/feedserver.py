"""A loopback HTTP server that serves feeds, and misbehaves on purpose when asked to.

Routes are registered per test: `server.add(path, handler)` where the handler receives the
request handler object and writes the whole answer itself, so a route can trickle, stream
forever, lie about its charset or redirect in circles.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    request_queue_size = 256  # the default (5) drops concurrent connections: 1 s SYN retries

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hanging up on misbehaving routes is the point of the exercise


class _QuietServer6(_QuietServer):
    address_family = socket.AF_INET6


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    send(self, 404, b"not found", "text/plain")
                    return
                with suppress(BrokenPipeError, ConnectionResetError):
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        server_class = _QuietServer6 if ":" in host else _QuietServer
        self.httpd = server_class((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def base(self) -> str:
        host = str(self.httpd.server_address[0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for seen, headers in self.requests if seen.split("?")[0] == path]


@contextmanager
def running(host: str = "127.0.0.1") -> Iterator[FeedServer]:
    server = FeedServer(host)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    content_type: str = "application/rss+xml; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    if body and handler.command != "HEAD":
        handler.wfile.write(body)


# --- well-behaved and misbehaving routes -------------------------------------------------------


def serve(
    body: bytes,
    content_type: str = "application/rss+xml; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> Route:
    return lambda handler: send(handler, 200, body, content_type, headers)


def status(code: int, body: bytes = b"error page") -> Route:
    return lambda handler: send(handler, code, body, "text/plain")


def redirect(code: int, location: str) -> Route:
    return lambda handler: send(handler, code, b"", "text/plain", {"Location": location})


def with_etag(body: bytes, etag: str) -> Route:
    """200 with an ETag, 304 when the client already has it."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == etag:
            send(handler, 304, b"", headers={"ETag": etag})
        else:
            send(handler, 200, body, headers={"ETag": etag})

    return route


def trickle(server: FeedServer, byte_every: float = 0.2) -> Route:
    """Headers at once, then one byte at a time, forever: no read timeout ever fires."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        handler.wfile.flush()
        while not server.stopping.wait(byte_every):
            handler.wfile.write(b" ")
            handler.wfile.flush()

    return route


def _undeclared_length(handler: BaseHTTPRequestHandler) -> None:
    """A 200's headers with no Content-Length: the body ends when the connection closes."""
    handler.protocol_version = "HTTP/1.0"
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Connection", "close")
    handler.end_headers()


def silent(server: FeedServer) -> Route:
    """Accept the request and never answer."""
    return lambda handler: server.stopping.wait(60) and None


def endless(server: FeedServer) -> Route:
    """A 200 without length whose body never ends, as fast as the client reads."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        _undeclared_length(handler)
        chunk = b"<item><title>again</title></item>" * 2000
        handler.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
        while not server.stopping.is_set():
            handler.wfile.write(chunk)

    return route


def huge_undeclared(size: int) -> Route:
    """A big body sent without Content-Length (connection close marks its end)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        _undeclared_length(handler)
        sent = 0
        block = b"x" * 65536
        while sent < size:
            handler.wfile.write(block)
            sent += len(block)

    return route


def compressed(body: bytes, encoding: str) -> Route:
    return lambda handler: send(handler, 200, body, headers={"Content-Encoding": encoding})


def gzip_bomb(size: int) -> bytes:
    """`size` zero bytes gzipped: about a thousandth of that on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9)


def brotli_bomb(size: int) -> bytes:
    import brotli

    return bytes(brotli.compress(b"\0" * size))


def rss(title: str, items: list[tuple[str, str]], extra: str = "") -> bytes:
    """A small RSS 2.0 feed: (title, link) per item."""
    entries = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>Mon, 2{n % 9} Nov 2026 08:00:00 +0100</pubDate>"
        f"<description>&lt;p&gt;About {t}.&lt;/p&gt;</description></item>"
        for n, (t, link) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{extra}{entries}</channel></rss>"
    ).encode()


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
