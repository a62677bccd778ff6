"""Subgraph transport: one async method that sends a GraphQL request to a named subgraph, and
:class:`SubgraphSubscriber` for subscriptions (graphql-transport-ws).

The executor only sees :class:`SubgraphClient`; :class:`HttpSubgraphClient` sends over
:class:`setrum_common.fastpath.http.HttpClient` (real network, or in-process ASGI apps).
"""

from __future__ import annotations

from ._client import DEFAULT_MAX_CONNECTIONS, DEFAULT_TIMEOUT_S, HttpSubgraphClient, SubgraphClient
from ._dedupe import InflightShare
from ._errors import SubgraphFetchError
from ._retry import RetryPolicy
from ._subscribe import GRAPHQL_TRANSPORT_WS, SubgraphSubscriber

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_TIMEOUT_S",
    "GRAPHQL_TRANSPORT_WS",
    "HttpSubgraphClient",
    "InflightShare",
    "RetryPolicy",
    "SubgraphClient",
    "SubgraphFetchError",
    "SubgraphSubscriber",
]
