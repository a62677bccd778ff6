"""In-flight de-duplication of identical subgraph QUERY requests (Apollo Router's
``deduplicate_query``, Hive Gateway's request merging).

Not the gateway's ``dedupe_inflight_queries``, which shares whole client requests: this shares one
subgraph request between fetches (of the same or different client operations) that would send
the same bytes to the same subgraph with the same headers at the same time. The leader's request
runs as its own task, so a caller that goes away does not cancel it for the others; the entry is
removed when it finishes, so later fetches go out fresh. What is shared is the raw answer (status
and bytes), never a decoded dict: the executor merges into the dicts it decodes, so each caller
decodes its own. A failure is shared as it happened (the same error for every caller).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from functools import lru_cache
from typing import Generic, TypeVar

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

__all__ = ["Answer", "InflightShare", "is_query_only"]

T = TypeVar("T")
Answer = tuple[int, bytes]


class InflightShare(Generic[T]):
    """One run per key in flight; every concurrent caller with that key awaits it. Also what the
    gateway's client-request-level ``dedupe_inflight_queries`` runs on."""

    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[T]] = {}
        self.shared = 0  # callers answered by another caller's run (read by tests)

    async def run(self, key: Hashable, start: Callable[[], Awaitable[T]]) -> T:
        pending = self._pending.get(key)
        if pending is not None:
            self.shared += 1
        else:
            pending = asyncio.ensure_future(start())
            self._pending[key] = pending
            pending.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(pending)

    def _finished(self, key: Hashable, done: asyncio.Future[T]) -> None:
        if self._pending.get(key) is done:
            del self._pending[key]
        if not done.cancelled():
            done.exception()  # retrieved: no "never retrieved" warning when every caller left


@lru_cache(maxsize=4096)
def is_query_only(document: str) -> bool:
    """True when every operation in ``document`` is a query: only those may be shared (a mutation or
    subscription never is). Parsed once per distinct text; plans reuse the same operation texts."""
    try:
        definitions = parse(document, no_location=True).definitions
    except GraphQLError:
        return False
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    return bool(operations) and all(op.operation == OperationType.QUERY for op in operations)
