"""The address guard: outgoing fetches reach public addresses only.

Feeds, the pages their items link to and the redirects their servers send are chosen by
strangers. Unguarded, a feed could make the server read its own loopback services, the private
network or the cloud metadata endpoint (169.254.169.254) and publish the answer in an email.
So every connection the collector opens resolves its host once, is refused unless every
address is public, and goes to that very address: no second lookup that a rebinding DNS server
could answer differently. The host name still goes in the Host header and in TLS (SNI and the
certificate check), so nothing else changes for a public server.

The one exception is the origin (scheme, host, port) of the feed the operator listed: a feed at
http://127.0.0.1:8080/feed is fetched, and so are the pages it links to on that origin; nothing
it links or redirects to elsewhere. Requests say which feed they serve with the LISTED_ORIGIN
request extension; `GuardedTransport` sends those to that origin through a pool of its own and
everything else through the guarded one.

Deciding (pure): `origin_of`, `non_public_kind`, `refusal`. Doing (I/O): `resolve_host`,
`open_tcp`, `PublicOnlyNetwork`, `GuardedTransport`.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import httpcore
import httpx

from newsletter.domain.errors import FetchError

Origin = tuple[str, str, int]
# Request extension: the origin of the feed the operator listed, which this request serves.
LISTED_ORIGIN = "newsletter.listed_origin"

_DEFAULT_PORTS = {"http": 80, "https": 443}
_PRIVATE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
# Not globally reachable (IANA special-purpose registries), spelled out because Python's own
# list (is_global, is_private) differs between versions.
_SPECIAL_PURPOSE = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "100::/64", "2001::/23", "2001:db8::/32",
        "3fff::/20", "5f00::/16",
    )
)  # fmt: skip
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix: the last 32 bits are IPv4
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated ::a.b.c.d


class AddressRefused(FetchError):
    """A fetch would have connected to an address that is not public: refused before it did."""


# --- deciding -----------------------------------------------------------------------------------


def origin_of(url: str | httpx.URL) -> Origin | None:
    """(scheme, host, port) of an http(s) URL as the HTTP client reads it; None for other URLs."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except httpx.InvalidURL:
        return None
    default_port = _DEFAULT_PORTS.get(parsed.scheme)
    if default_port is None or not parsed.host:
        return None
    return parsed.scheme, parsed.host, parsed.port or default_port


def non_public_kind(address: str) -> str | None:
    """Why `address` (an IP as a resolver gives it) is no place for a fetch a stranger chose
    ("loopback", "private", "link-local", ...), or None for a public address.

    IPv6 forms that carry an IPv4 address (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4
    2002::/16) are judged by that IPv4 address: they reach it.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # fe80::1%eth0: the zone names a link
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return non_public_kind(str(embedded))
    return _kind(ip)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if any(ip in network for network in _PRIVATE):
        return "private"
    if ip in _SHARED:
        return "shared (carrier-grade NAT)"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_reserved or ip in _IPV4_COMPATIBLE:
        return "reserved"
    # Documentation, benchmarking, protocol assignments, Teredo, ...
    if any(ip in network for network in _SPECIAL_PURPOSE) or ip.is_private or not ip.is_global:
        return "special-purpose"
    return None


def refusal(host: str, addresses: Sequence[str]) -> str | None:
    """The one-line reason not to connect to `host` that resolved to `addresses`, or None when
    every address is public."""
    for address in addresses:
        kind = non_public_kind(address)
        if kind is None:
            continue
        article = "an" if kind[0] in "aeiou" else "a"
        if _same_address(host, address):
            return f"refused: {address} is {article} {kind} address"
        return f"refused: {host} resolves to {address}, {article} {kind} address"
    return None


def _same_address(host: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")) == ipaddress.ip_address(address)
    except ValueError:
        return False


# --- doing --------------------------------------------------------------------------------------


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order (an IP resolves to itself)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def open_tcp(
    address: str,
    port: int,
    timeout: float | None,
    local_address: str | None,
    socket_options: Iterable[Any] | None,
) -> httpcore.AsyncNetworkStream:
    """A TCP connection to `address`, an IP: nothing left to resolve."""
    return await httpcore.AnyIOBackend().connect_tcp(
        address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
    )


class PublicOnlyNetwork(httpcore.AsyncNetworkBackend):
    """httpcore's network, but a connection goes only to a checked, public address."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await resolve_host(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        reason = refusal(host, addresses)
        if reason:
            raise AddressRefused(reason)
        failure: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in addresses:  # every one checked above; the first that answers serves
            try:
                return await open_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("fetches never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


class GuardedTransport(httpx.AsyncBaseTransport):
    """Two connection pools: a request to the origin its LISTED_ORIGIN extension names goes
    through the listed pool, unchecked; every other request through the public-only pool.

    Each pool keeps connections per origin, so a connection is only ever reused by requests
    that could have opened it: the public pool holds checked public addresses only, and the
    listed pool serves a request only when the origin is the one the operator listed for it.
    """

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._listed = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
        self._public = httpx.AsyncHTTPTransport(verify=ssl_context, limits=limits)
        if not isinstance(getattr(self._public, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx version cannot take the address guard")
        # httpx takes no network backend of its own; its connection pool does.
        self._public._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PublicOnlyNetwork(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        listed = request.extensions.get(LISTED_ORIGIN)
        if listed is not None and listed == origin_of(request.url):
            return await self._listed.handle_async_request(request)
        return await self._public.handle_async_request(request)

    async def aclose(self) -> None:
        await self._public.aclose()
        await self._listed.aclose()
