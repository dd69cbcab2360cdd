"""The client address decision (pure), the access log's redaction, and the
`[web] forwarded_allow_ips` setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.domain.errors import ConfigError
from newsletter.runtime import config as config_module
from newsletter.web.access import redact_path
from newsletter.web.forwarded import client_address, forwarded_scheme, trusted_networks

PROXIES = trusted_networks(["10.0.0.0/24", "192.0.2.1", "fd00::/8"])


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  # not a proxy: header ignored
        ("10.0.0.7", [], "10.0.0.7"),  # a proxy that says nothing
        ("10.0.0.7", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.7", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client's own words: no
        ("10.0.0.7", ["6.6.6.6, 198.51.100.1, 192.0.2.1"], "198.51.100.1"),  # two proxies
        ("10.0.0.7", ["6.6.6.6", "198.51.100.1"], "198.51.100.1"),  # two header lines
        ("10.0.0.7", ["10.0.0.8, 10.0.0.9"], "10.0.0.8"),  # only proxies: the farthest
        ("10.0.0.7", ["198.51.100.1, unknown"], "10.0.0.7"),  # garbage from a proxy: stop
        ("10.0.0.7", ["2001:db8::1"], "2001:db8::1"),
        ("::ffff:10.0.0.7", ["198.51.100.1"], "198.51.100.1"),  # IPv4-mapped peer
        ("fd00::1", ["198.51.100.1"], "198.51.100.1"),
        ("testclient", ["198.51.100.1"], "testclient"),  # not an address: never a proxy
    ],
)
def test_client_address(peer: str, forwarded_for: list[str], expected: str) -> None:
    """The client is the peer unless the peer is a listed proxy; then the nearest forwarded
    hop that is not one."""
    assert client_address(peer, forwarded_for, PROXIES) == expected


def test_no_proxies_no_belief() -> None:
    """The default (no proxy listed) never reads the header, loopback included."""
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"
    assert forwarded_scheme("127.0.0.1", "https", "http", ()) == "http"
    assert forwarded_scheme("10.0.0.7", "https", "http", PROXIES) == "https"
    assert forwarded_scheme("10.0.0.7", "javascript", "http", PROXIES) == "http"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/confirm/abc.def", "/confirm/[token]"),
        ("/unsubscribe/abc.def", "/unsubscribe/[token]"),
        ("/preferences/abc.def", "/preferences/[token]"),
        ("/c/abc.def/more", "/c/[token]/more"),
        ("/subscribe", "/subscribe"),
        ("/desk/issues/3", "/desk/issues/3"),
        ("/confirmation/abc", "/confirmation/abc"),
    ],
)
def test_redact_path(path: str, logged: str) -> None:
    """The token segment of link routes is replaced; other paths are kept."""
    assert redact_path(path) == logged


def test_forwarded_allow_ips_setting(tmp_path: Path) -> None:
    """IPs and CIDR networks are accepted (normalised); anything else names the key."""
    path = tmp_path / "config.toml"
    path.write_text('[web]\nforwarded_allow_ips = ["127.0.0.1", "10.0.0.0/8", "fd00::1"]\n')
    config = config_module.load(path, {})
    assert config.settings.web.forwarded_allow_ips == ("127.0.0.1/32", "10.0.0.0/8", "fd00::1/128")
    path.write_text('[web]\nforwarded_allow_ips = ["proxy.example.org"]\n')
    with pytest.raises(ConfigError) as refused:
        config_module.load(path, {})
    assert "web.forwarded_allow_ips" in str(refused.value)
    assert "not an IP address or network" in str(refused.value)
    path.write_text("[desk]\nlogin_attempts = 10\nlogin_attempts_per_client = 5\n")
    with pytest.raises(ConfigError) as looser:
        config_module.load(path, {})
    assert "login_attempts_per_client" in str(looser.value)
