"""The client's IP address as a service sees it: the TCP peer, or, for a request relayed by one of
the ``trusted`` peers (the router), the address that peer puts in ``x-setrum-client-ip``.

The router sets that header on every subgraph request after its header rules, so a client cannot
supply it through the router; a direct caller not in ``trusted`` is keyed by its own address,
whatever it sends. A header that is not an IP address is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

__all__ = ["CLIENT_IP_HEADER", "DEFAULT_TRUSTED_PROXIES", "Network", "client_ip", "parse_networks"]

CLIENT_IP_HEADER = "x-setrum-client-ip"
DEFAULT_TRUSTED_PROXIES: tuple[str, ...] = ("127.0.0.1/32", "::1/128")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in values)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_ip(connection: HTTPConnection, trusted: Sequence[Network]) -> str:
    peer = connection.client.host if connection.client is not None else "unknown"
    peer_address = _address(peer)
    if peer_address is None or not any(peer_address in network for network in trusted):
        return peer
    relayed = _address(connection.headers.get(CLIENT_IP_HEADER, ""))
    return str(relayed) if relayed is not None else peer
