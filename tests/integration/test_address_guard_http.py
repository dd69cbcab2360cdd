"""The address guard against real loopback servers: a feed the operator listed on loopback
tries to make the collector read another loopback server (standing for cloud metadata or an
internal service) through item links, redirects, a stored moved URL and DNS answers.

Nothing here leaves the machine: the `network` fixture answers DNS for invented names, routes
the one "public" address to a loopback server, and refuses any other connection outside
this machine (a connection by the public pool to this machine is let through and recorded, so
a broken guard shows as a real request to the secret server).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import logging
import ssl
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpcore
import pytest

from newsletter.collect import address_guard
from newsletter.collect import fetch as fetch_module
from newsletter.collect.address_guard import non_public_kind
from newsletter.collect.fetch import FetchLimits, fetch, make_client
from newsletter.domain.errors import FetchError
from newsletter.domain.model import FeedStatus
from newsletter.runtime.collection import collect
from newsletter.runtime.wiring import Services
from tests import feedserver
from tests.conftest import ROOT
from tests.feedserver import FeedServer, rss

pytestmark = pytest.mark.integration

SECRET = "AKIA-do-not-publish-7f3a"
SECRET_PAGE = (
    f'<html><head><meta property="og:description" content="{SECRET}">'
    f'<meta property="og:image" content="https://cdn.example.org/{SECRET}.png"></head></html>'
).encode()
SECRET_FEED = rss(SECRET, [(SECRET, f"https://example.org/{SECRET}")])
PUBLIC_IP = "93.184.215.14"  # public; the test network routes it to a loopback server

MakeServices = Callable[..., Services]


@dataclass
class Network:
    """The public pool's view of the network, steered by a test."""

    dns: dict[str, list[list[str]]] = field(default_factory=dict)  # successive answers
    routes: dict[tuple[str, int], int] = field(default_factory=dict)  # -> loopback port
    lookups: list[str] = field(default_factory=list)
    connections: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network()
    real_resolve = address_guard.resolve_host
    real_open = address_guard.open_tcp

    async def resolve(host: str, port: int) -> list[str]:
        net.lookups.append(host)
        answers = net.dns.get(host)
        if answers:
            return answers.pop(0) if len(answers) > 1 else answers[0]
        return await real_resolve(host, port)  # IP literals and localhost only

    async def open_tcp(address: str, port: int, *args: Any) -> httpcore.AsyncNetworkStream:
        net.connections.append((address, port))
        if (address, port) in net.routes:
            return await real_open("127.0.0.1", net.routes[address, port], *args)
        if non_public_kind(address) in {"loopback", "unspecified"}:  # this machine
            return await real_open(address, port, *args)
        raise httpcore.ConnectError(f"test network: {address} is out of reach")

    monkeypatch.setattr(address_guard, "resolve_host", resolve)
    monkeypatch.setattr(address_guard, "open_tcp", open_tcp)
    return net


@pytest.fixture
def server() -> Iterator[FeedServer]:
    """The feed server the operator listed."""
    with feedserver.running() as running:
        yield running


def _serving_secrets(server: FeedServer) -> FeedServer:
    for path in ("/latest/meta-data/", "/a"):
        server.add(path, feedserver.serve(SECRET_PAGE, "text/html; charset=utf-8"))
    server.add("/feed", feedserver.serve(SECRET_FEED))
    return server


@pytest.fixture
def secret() -> Iterator[FeedServer]:
    """Another loopback service: what cloud metadata or an internal admin page stands for."""
    with feedserver.running() as running:
        yield _serving_secrets(running)


@pytest.fixture
def secret6() -> Iterator[FeedServer]:
    """The same on IPv6 loopback."""
    try:
        started = feedserver.running("::1")
        running = started.__enter__()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        yield _serving_secrets(running)
    finally:
        started.__exit__(None, None, None)


@pytest.fixture
def collector(feed_services: MakeServices) -> MakeServices:
    def make(feed_urls: dict[str, str], **collect_settings: Any) -> Services:
        settings = {"timeout_seconds": 5, "max_redirects": 5, **collect_settings}
        return feed_services(feed_urls, settings)

    return make


def thin_feed(items: Iterable[tuple[str, str]]) -> bytes:
    """Entries with a title and a link only: every one is a candidate for enrichment."""
    entries = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid></item>"
        for title, link in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
        f"<link>https://example.org/</link>{entries}</channel></rss>"
    ).encode()


def page(description: str) -> feedserver.Route:
    html = (
        f'<html><head><meta property="og:description" content="{description}">'
        '<meta property="og:image" content="/picture.png"></head></html>'
    )
    return feedserver.serve(html.encode(), "text/html; charset=utf-8")


def published(svc: Services) -> str:
    """Everything stored about the articles, as one string to search."""
    return repr(svc.store.articles.recent(limit=1000))


def test_item_links_cannot_make_enrichment_read_another_private_origin(
    server: FeedServer,
    secret: FeedServer,
    secret6: FeedServer,
    collector: MakeServices,
    network: Network,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every way of writing "another loopback service" or "cloud metadata" in an item link, or
    redirecting a page there, is refused before connecting; the item is stored unenriched and
    the secret reaches no article. The listed feed's own pages are still enriched."""
    server.add("/own", page("Own description"))
    server.add("/bounce", feedserver.redirect(302, secret.url("/latest/meta-data/")))
    attacks = {
        "Other port": (secret.url("/latest/meta-data/"), "refused: 127.0.0.1 is a loopback"),
        "Localhost": (
            f"http://localhost:{secret.port}/a",
            "refused: localhost resolves to 127.0.0.1, a loopback address",
        ),
        "Unspecified": (
            f"http://0.0.0.0:{secret.port}/a",
            "refused: 0.0.0.0 is an unspecified address",
        ),
        "Decimal": (
            f"http://2130706433:{secret.port}/a",
            "refused: 2130706433 resolves to 127.0.0.1, a loopback address",
        ),
        "Hexadecimal": (
            f"http://0x7f.1:{secret.port}/a",
            "refused: 0x7f.1 resolves to 127.0.0.1, a loopback address",
        ),
        "Short": (
            f"http://127.1:{secret.port}/a",
            "refused: 127.1 resolves to 127.0.0.1, a loopback address",
        ),
        "Mapped": (
            f"http://[::ffff:127.0.0.1]:{secret.port}/a",
            "refused: ::ffff:127.0.0.1 is a loopback address",
        ),
        "IPv6": (secret6.url("/a"), "refused: ::1 is a loopback address"),
        "Cloud metadata": (
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is a link-local address",
        ),
        "Bounce": (server.url("/bounce"), "refused: 127.0.0.1 is a loopback address"),
        "Octal": (f"http://0177.0.0.1:{secret.port}/a", "invalid URL"),
    }
    items = [("Own", server.url("/own")), *((t, link) for t, (link, _) in attacks.items())]
    feed = server.add("/feed.xml", feedserver.serve(thin_feed(items)))
    svc = collector({"local": feed}, enrich=True, enrich_max_per_feed=20)

    with caplog.at_level(logging.INFO, logger="newsletter.collect.pipeline"):
        report = collect(svc)

    assert (report.feeds[0].status, report.feeds[0].new) == (FeedStatus.OK, len(items))
    assert secret.requests == [] and secret6.requests == []
    assert network.connections == []  # refused before any connection was opened
    assert SECRET not in published(svc)
    articles = {article.title: article for article in svc.store.articles.recent()}
    assert articles["Own"].summary == "Own description"
    assert articles["Own"].image_url == server.url("/picture.png")
    logged = [record.getMessage() for record in caplog.records]
    for title, (_link, reason) in attacks.items():
        assert (articles[title].summary, articles[title].image_url) == ("", None), title
        assert any(articles[title].url in line and reason in line for line in logged), title


@pytest.mark.parametrize("code", [301, 302, 308])
def test_a_feed_cannot_redirect_into_another_private_origin(
    server: FeedServer,
    secret: FeedServer,
    secret6: FeedServer,
    collector: MakeServices,
    network: Network,
    code: int,
) -> None:
    """A listed loopback feed redirecting elsewhere private is refused with one line in the
    report and the feed's health, and its URL is not moved."""
    targets = {
        "other-port": (secret.url("/feed"), "refused: 127.0.0.1 is a loopback address"),
        "localhost": (
            f"http://localhost:{secret.port}/feed",
            "refused: localhost resolves to 127.0.0.1, a loopback address",
        ),
        "decimal": (
            f"http://2130706433:{secret.port}/feed",
            "refused: 2130706433 resolves to 127.0.0.1, a loopback address",
        ),
        "ipv6": (secret6.url("/feed"), "refused: ::1 is a loopback address"),
        "cloud": (
            "http://169.254.169.254/latest/meta-data/",
            "refused: 169.254.169.254 is a link-local address",
        ),
        "private": ("http://10.0.0.5/feed", "refused: 10.0.0.5 is a private address"),
    }
    listed = {
        name: server.add(f"/moving/{name}.xml", feedserver.redirect(code, target))
        for name, (target, _) in targets.items()
    }
    svc = collector(listed)

    report = collect(svc)

    outcomes = {outcome.name: outcome for outcome in report.feeds}
    for name, (target, refusal) in targets.items():
        reason = f"{refusal} ({target})"  # the refusal, and the URL refused
        assert (outcomes[name].status, outcomes[name].error) == (FeedStatus.ERROR, reason)
        assert outcomes[name].moved_to is None
        state = svc.store.feeds.get(name)
        assert state is not None
        assert (state.url, state.last_error) == (listed[name], reason)
    assert secret.requests == [] and secret6.requests == []
    assert network.connections == []
    assert svc.store.articles.count() == 0


def test_a_stored_url_moved_into_another_private_origin_is_refused(
    server: FeedServer, secret: FeedServer, collector: MakeServices
) -> None:
    """A feed URL that moved to another private origin (stored before the guard existed) is
    refused like a redirect there."""
    svc = collector({"moved": server.add("/feed.xml", feedserver.serve(rss("F", [])))})
    svc.store.feeds.sync(svc.config.feed_sources())
    state = svc.store.feeds.get("moved")
    assert state is not None
    svc.store.feeds.save(replace(state, url=secret.url("/feed")))

    report = collect(svc)

    refused = f"refused: 127.0.0.1 is a loopback address ({secret.url('/feed')})"
    assert report.feeds[0].error == refused
    assert secret.requests == []
    assert SECRET not in published(svc)


@pytest.fixture
def site() -> Iterator[FeedServer]:
    """A "public" web site: reached only through the test network's route for PUBLIC_IP."""
    with feedserver.running() as running:
        running.add("/story", page("Public description"))
        yield running


def test_a_name_is_resolved_once_and_connected_at_the_checked_address(
    server: FeedServer,
    secret: FeedServer,
    site: FeedServer,
    collector: MakeServices,
    network: Network,
) -> None:
    """DNS rebinding: the name answers a public address for the check and loopback (the secret
    service's port) afterwards. The connection goes to the checked address, the second answer
    is never asked for; Host still names the site."""
    host = "news.rebind.test"
    network.dns[host] = [[PUBLIC_IP], ["127.0.0.1"]]
    network.routes[PUBLIC_IP, secret.port] = site.port
    link = f"http://{host}:{secret.port}/story"
    svc = collector(
        {"local": server.add("/feed.xml", feedserver.serve(thin_feed([("Story", link)])))},
        enrich=True,
    )

    collect(svc)

    assert network.lookups.count(host) == 1
    assert network.connections == [(PUBLIC_IP, secret.port)]
    assert secret.requests == []
    assert site.hits("/story")[0]["Host"] == f"{host}:{secret.port}"
    [article] = svc.store.articles.recent()
    assert article.summary == "Public description"


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    server: FeedServer,
    secret: FeedServer,
    site: FeedServer,
    collector: MakeServices,
    network: Network,
) -> None:
    """Any non-public answer refuses the name: the client never picks among them."""
    host = "news.mixed.test"
    network.dns[host] = [[PUBLIC_IP, "127.0.0.1"]]
    network.routes[PUBLIC_IP, secret.port] = site.port
    link = f"http://{host}:{secret.port}/story"
    svc = collector(
        {"local": server.add("/feed.xml", feedserver.serve(thin_feed([("Story", link)])))},
        enrich=True,
    )

    collect(svc)

    assert network.connections == []
    assert secret.requests == [] and site.requests == []
    assert [a.summary for a in svc.store.articles.recent()] == [""]


def test_listed_local_files_are_still_read(collector: MakeServices) -> None:
    """A feed the operator listed as a file: URL or a path is read as before."""
    sample = ROOT / "samples" / "maddynews-sample.xml"
    svc = collector({"file": sample.as_uri(), "path": str(sample)})

    report = collect(svc)

    assert [(o.name, o.status, o.error) for o in report.feeds] == [
        ("file", FeedStatus.OK, None),
        ("path", FeedStatus.OK, None),
    ]
    assert svc.store.articles.count() == 5


# --- TLS: connected to the checked address, verified for the name ----------------------------


def _certificates(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A test CA, and a server certificate it signs for `name`: (ca, cert, key) files."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newsletter test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def test_tls_names_the_host_while_connecting_to_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, network: Network
) -> None:
    """Connected to the checked IP, the client still sends the name as SNI and Host and
    verifies the certificate against the name: a certificate for another name fails."""
    ca, cert, key = _certificates(tmp_path, "news.tls.test")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    names: list[str | None] = []
    server_context.sni_callback = lambda _socket, name, _context: names.append(name)
    body = rss("TLS", [("One", "https://news.tls.test/1")])
    site = FeedServer()
    site.httpd.socket = server_context.wrap_socket(site.httpd.socket, server_side=True)
    site.add("/feed.xml", feedserver.serve(body))
    site.start()
    monkeypatch.setattr(fetch_module, "_tls_context", lambda: ssl.create_default_context(cafile=ca))
    for host in ("news.tls.test", "other.tls.test"):
        network.dns[host] = [[PUBLIC_IP]]
    network.routes[PUBLIC_IP, 443] = site.port
    limits = FetchLimits(timeout=5)

    async def get(url: str) -> bytes:
        async with make_client(2, limits) as client:
            return (await fetch(client, url, limits)).body

    try:
        fetched = asyncio.run(get("https://news.tls.test/feed.xml"))
        with pytest.raises(FetchError, match="certificate verify failed"):
            asyncio.run(get("https://other.tls.test/feed.xml"))
    finally:
        site.stop()

    assert fetched == body
    assert names == ["news.tls.test", "other.tls.test"]
    assert site.hits("/feed.xml")[0]["Host"] == "news.tls.test"
    assert network.connections == [(PUBLIC_IP, 443), (PUBLIC_IP, 443)]
    assert ipaddress.ip_address(PUBLIC_IP).is_global
