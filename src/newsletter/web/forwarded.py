"""Who the client is: the one place that decides a request's client address.

The TCP peer is the client unless it is one of the reverse proxies listed in
`[web] forwarded_allow_ips`; only then is X-Forwarded-For believed, read from the right (the
hop nearest to us) past every listed proxy, so addresses a client wrote into the header itself
are never taken. The same trusted proxies may say the original scheme (X-Forwarded-Proto).

`ForwardedHeaders` applies the decision to the ASGI scope once, before anything else reads
`request.client`: rate limits, consent records and the access log all see the same address.
uvicorn's own proxy-header handling is turned off (`newsletter.runtime.process.server_settings`) so
that it does not rewrite the peer first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The configured proxies (already validated IPs or networks) as networks."""
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The client's address: the peer, or, when the peer is a trusted proxy, the nearest
    X-Forwarded-For hop that is not itself a trusted proxy. Pure."""
    if peer is None:
        return UNKNOWN
    current = _address(peer)
    if current is None or not _is_trusted(current, trusted):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a proxy we trust wrote something that is not an address: stop at that proxy
        current = address
        if not _is_trusted(address, trusted):
            break
    return str(current)


def forwarded_scheme(
    peer: str | None, proto: str | None, scheme: str, trusted: Sequence[Network]
) -> str:
    """The scheme the client used: a trusted proxy's X-Forwarded-Proto, else our own. Pure."""
    address = _address(peer) if peer else None
    if address is None or not _is_trusted(address, trusted) or not proto:
        return scheme
    said = proto.split(",")[0].strip().lower()
    return said if said in ("http", "https") else scheme


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]
) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


class ForwardedHeaders:
    """Put the decided client address (and scheme) into the scope, for everything after."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not client or not self.trusted:
            await self.app(scope, receive, send)
            return
        peer, port = client[0], client[1]
        forwarded_for: list[str] = []
        proto: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.append(value.decode("latin-1"))
            elif name == b"x-forwarded-proto":
                proto = value.decode("latin-1")
        decided = client_address(peer, forwarded_for, self.trusted)
        scheme = forwarded_scheme(peer, proto, scope.get("scheme", "http"), self.trusted)
        # The port stays the peer's: the client's own port is not known.
        await self.app({**scope, "client": (decided, port), "scheme": scheme}, receive, send)
