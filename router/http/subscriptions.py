"""Subscriptions at the edge, the part both transports share, and GraphQL over SSE.

GraphQL over Server-Sent Events, "distinct connections mode": a request on ``/graphql`` whose ``Accept`` names
``text/event-stream`` goes through the whole HTTP pipeline (CSRF, authentication, body limit, decoding,
persisted queries, rate limits, header rules) like any other, and is answered ``200 text/event-stream``:
one ``event: next`` per result (``data:`` the JSON response) and a final ``event: complete``. A refused
operation is a single ``next`` carrying the errors, then ``complete`` (an SSE client cannot read a 400); a
query or mutation is one ``next`` too. A comment line every ``keepalive_s`` keeps proxies from closing a quiet
stream. The client ends a subscription by closing the connection: the router notices at once (it listens for
the disconnect, not only for a failed write) and closes the subgraph subscription.

:class:`SubscriptionSlots` bounds the subscriptions one router process holds open (SSE and WebSocket
together); one more is answered with a ``SUBSCRIPTION_LIMIT`` error (docs/router.md §11 Subscriptions).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from router.errors import error_dict
from setrum_common.closing import aclose

from .context import GraphQLRequest

__all__ = [
    "EventStreamResponse",
    "OperationResult",
    "SubscriptionSlots",
    "limit_error",
    "run_operation",
]

LIMIT_CODE = "SUBSCRIPTION_LIMIT"


class SubscriptionSlots:
    """Subscriptions open in this process, at most ``max_opened``."""

    def __init__(self, max_opened: int) -> None:
        self.max_opened = max_opened
        self.opened = 0

    def acquire(self) -> bool:
        if self.opened >= self.max_opened:
            return False
        self.opened += 1
        return True

    def release(self) -> None:
        self.opened -= 1


def limit_error(what: str) -> dict[str, Any]:
    return error_dict(f"Too many subscriptions open {what}; try again later", LIMIT_CODE)


class OperationResult:
    """What a streaming transport sends for one operation: ``single`` (a refused operation, a query or a
    mutation: one body, ``refused`` when it never ran) or ``events`` (a subscription's bodies)."""

    __slots__ = ("events", "refused", "single")

    def __init__(
        self,
        *,
        single: dict[str, Any] | None = None,
        refused: bool = False,
        events: AsyncIterator[dict[str, Any]] | None = None,
    ) -> None:
        self.single = single
        self.refused = refused
        self.events = events


async def run_operation(
    gateway: Any,
    params: GraphQLRequest,
    *,
    subgraph_headers: Mapping[str, str],
    claims: Mapping[str, Any] | None,
    allow_mutations: bool,
) -> OperationResult:
    """Start ``params`` on ``gateway`` (a :class:`router.gateway.Gateway`) for a streaming transport."""
    subscribe = getattr(gateway, "subscribe", None)
    if subscribe is None:  # a test double without subscriptions
        return OperationResult(single={"errors": [error_dict("Subscriptions are not available", "SUBSCRIPTIONS_OFF")]})
    result = await subscribe(
        params.query,
        params.variables,
        params.operation_name,
        subgraph_headers=subgraph_headers,
        allow_mutations=allow_mutations,
        claims=claims,
    )
    body = getattr(result, "body", None)
    if isinstance(body, dict):
        return OperationResult(single=body, refused=getattr(result, "status", "ok") != "ok")
    return OperationResult(events=result)


def _next(body: Mapping[str, Any]) -> bytes:
    return b"event: next\ndata: " + orjson.dumps(body) + b"\n\n"


_COMPLETE = b"event: complete\ndata:\n\n"
_KEEPALIVE = b":\n\n"


class EventStreamResponse(Response):
    """``text/event-stream`` of ``bodies`` (closed when the client disconnects), then ``complete``."""

    media_type = "text/event-stream"

    def __init__(self, bodies: AsyncIterator[dict[str, Any]], *, keepalive_s: float, headers: dict[str, str]) -> None:
        super().__init__(
            content=None,
            headers={**headers, "cache-control": "no-cache", "x-accel-buffering": "no"},
            media_type=self.media_type,
        )
        self.raw_headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]  # a stream has none
        self._bodies = bodies
        self._keepalive_s = keepalive_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lock = asyncio.Lock()

        async def write(chunk: bytes) -> None:
            async with lock:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})

        async def pump() -> None:
            async for body in self._bodies:
                await write(_next(body))
            await write(_COMPLETE)

        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        pumping = asyncio.create_task(pump())
        gone = asyncio.create_task(_disconnected(receive))
        try:
            while True:
                done, _ = await asyncio.wait({pumping, gone}, timeout=self._keepalive_s, return_when="FIRST_COMPLETED")
                if pumping in done or gone in done:
                    break
                await write(_KEEPALIVE)
            if pumping.done() and not pumping.cancelled():
                failure = pumping.exception()
                if failure is not None and not isinstance(failure, OSError):  # OSError: the client went away
                    raise failure
                with contextlib.suppress(OSError):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            for task in (pumping, gone):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await pumping
            with contextlib.suppress(asyncio.CancelledError):
                await gone
            with contextlib.suppress(Exception):
                await aclose(self._bodies)


async def _disconnected(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
