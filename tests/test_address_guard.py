"""The address guard's decisions (pure), and the local-file rule of `fetch`, without a network.

The guard at work against real loopback servers: tests/integration/test_address_guard_http.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from newsletter.collect.address_guard import non_public_kind, origin_of, refusal
from newsletter.collect.fetch import FetchLimits, fetch
from newsletter.domain.errors import FetchError

PUBLIC = [
    "8.8.8.8",
    "93.184.215.14",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2a00:1450:4007:80e::200e",
    "::ffff:8.8.8.8",  # IPv4-mapped: reaches 8.8.8.8
    "64:ff9b::808:808",  # NAT64: reaches 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]

NOT_PUBLIC = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("::1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("::", "unspecified"),
    ("10.0.0.5", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("fc00::1", "private"),
    ("fd12:3456:789a::1", "private"),
    ("169.254.169.254", "link-local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("100.64.0.1", "shared (carrier-grade NAT)"),
    ("100.127.255.254", "shared (carrier-grade NAT)"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("ff02::1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("fec0::1", "site-local"),
    ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
    ("::a9fe:a9fe", "reserved"),
    ("64:ff9b:1::a00:5", "reserved"),  # local-use NAT64 prefix
    ("192.0.2.1", "special-purpose"),  # documentation
    ("198.18.0.1", "special-purpose"),  # benchmarking
    ("192.0.0.8", "special-purpose"),  # IETF protocol assignments
    ("2001:db8::1", "special-purpose"),  # documentation
    ("3fff::1", "special-purpose"),  # documentation (2024)
    ("203.0.113.7", "special-purpose"),  # documentation
    ("0.1.2.3", "special-purpose"),  # "this network"
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "special-purpose"),  # Teredo
    # IPv6 forms that carry an IPv4 address are judged by it.
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:7f00:1", "loopback"),
    ("::ffff:10.0.0.5", "private"),
    ("::ffff:169.254.169.254", "link-local"),
    ("::ffff:0.0.0.0", "unspecified"),
    ("64:ff9b::7f00:1", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
    ("64:ff9b::c0a8:101", "private"),
    ("2002:7f00:1::", "loopback"),
    ("2002:a9fe:a9fe::1", "link-local"),
    ("2002:a00:5::1", "private"),
]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    """Public IPv4 and IPv6 addresses, also written as IPv6 forms of a public IPv4, pass."""
    assert non_public_kind(address) is None


@pytest.mark.parametrize(("address", "kind"), NOT_PUBLIC)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    """Loopback, private, link-local (cloud metadata), CGNAT, multicast, reserved and
    special-purpose ranges are refused, also hidden in mapped, NAT64 and 6to4 forms."""
    assert non_public_kind(address) == kind


def test_refusal_names_the_address_and_what_it_is() -> None:
    """One line: the address (and the name that led to it) and why it is refused."""
    assert refusal("10.0.0.5", ["10.0.0.5"]) == "refused: 10.0.0.5 is a private address"
    assert refusal("::1", ["::1"]) == "refused: ::1 is a loopback address"
    assert refusal("0.0.0.0", ["0.0.0.0"]) == "refused: 0.0.0.0 is an unspecified address"
    assert refusal("2130706433", ["127.0.0.1"]) == (
        "refused: 2130706433 resolves to 127.0.0.1, a loopback address"
    )
    assert refusal("metadata.internal", ["169.254.169.254"]) == (
        "refused: metadata.internal resolves to 169.254.169.254, a link-local address"
    )


def test_one_private_answer_among_public_ones_refuses_the_host() -> None:
    """A name that resolves to public and private addresses is refused as a whole."""
    assert refusal("mixed.example", ["93.184.215.14", "10.1.2.3"]) == (
        "refused: mixed.example resolves to 10.1.2.3, a private address"
    )
    assert refusal("news.example", ["93.184.215.14", "2606:4700::6810:84e5"]) is None


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8080/feed", ("http", "127.0.0.1", 8080)),
        ("HTTP://LocalHost/feed", ("http", "localhost", 80)),
        ("http://localhost:80/a", ("http", "localhost", 80)),
        ("https://news.example.org/feed", ("https", "news.example.org", 443)),
        ("http://[::1]:8080/", ("http", "::1", 8080)),
        ("http://2130706433/", ("http", "2130706433", 80)),
        ("file:///srv/feed.xml", None),
        ("/srv/feed.xml", None),
        ("http://0177.0.0.1/", None),  # the HTTP client cannot read it: it goes nowhere
    ],
)
def test_origin_is_scheme_host_and_port(url: str, origin: tuple[str, str, int] | None) -> None:
    """The operator's exception is per origin, read as the HTTP client reads the URL."""
    assert origin_of(url) == origin


def _fetch(url: str, listed_url: str | None) -> bytes:
    async def run() -> bytes:
        async with httpx.AsyncClient() as client:
            return (await fetch(client, url, FetchLimits(), listed_url=listed_url)).body

    return asyncio.run(run())


def test_only_the_listed_location_may_be_a_local_file(tmp_path: Path) -> None:
    """A feed the operator listed as a file is read; no other fetch may read a file."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"<rss/>")

    assert _fetch(feed.as_uri(), listed_url=feed.as_uri()) == b"<rss/>"
    for url, listed in [
        (feed.as_uri(), None),
        (feed.as_uri(), "http://127.0.0.1:8080/feed"),
        (str(feed), feed.as_uri()),
        ("file:///etc/passwd", feed.as_uri()),
    ]:
        with pytest.raises(FetchError, match=r"^refused: .* is not an http\(s\) URL$"):
            _fetch(url, listed_url=listed)
