"""Subgraph transport: one async method that sends a GraphQL request to a named subgraph.

The executor only sees :class:`SubgraphClient`; :class:`HttpSubgraphClient` is the pooled
httpx implementation (real network, or in-process ASGI apps through ``httpx.ASGITransport``).
"""

from __future__ import annotations

from ._client import DEFAULT_LIMITS, DEFAULT_TIMEOUT_S, HttpSubgraphClient, SubgraphClient
from ._errors import SubgraphFetchError
from ._http11 import Http11Error, Http11Pool
from ._transport import KeepAliveTransport

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT_S",
    "Http11Error",
    "Http11Pool",
    "HttpSubgraphClient",
    "KeepAliveTransport",
    "SubgraphClient",
    "SubgraphFetchError",
]
