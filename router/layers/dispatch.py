"""The innermost handler: run the decoded request on the current gateway.

An incremental response (``@defer``) keeps its lease on the gateway until the last payload is sent,
so a supergraph reload never closes the subgraph client under a running deferred part. A request that
negotiated ``text/event-stream`` (GraphQL over SSE) is answered with a stream
(:mod:`router.http.subscriptions`): it leases the gateway for as long as the stream lasts and holds one
of the process's subscription slots.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from router.http.context import Handler, RouterRequest, RouterResponse
from router.http.multipart import accepts_multipart_defer
from router.http.negotiation import EVENT_STREAM
from router.http.subscriptions import EventStreamResponse, SubscriptionSlots, limit_error, run_operation
from setrum_common.closing import aclose

from .reload import GatewayPool

__all__ = ["execute_handler"]


def execute_handler(pool: GatewayPool, *, slots: SubscriptionSlots | None = None, keepalive_s: float = 15.0) -> Handler:
    """``slots``: subscriptions are served over SSE (None: an event-stream request gets an error event)."""

    async def handle(request: RouterRequest) -> RouterResponse:
        assert request.graphql is not None, "execute runs after decoding"
        params = request.graphql
        if request.media_type == EVENT_STREAM:
            stream = EventStreamResponse(_stream(pool, request, slots), keepalive_s=keepalive_s, headers={})
            return RouterResponse(body={}, streaming=stream)
        extra: dict[str, Any] = {}
        if not request.batched and accepts_multipart_defer(request.http.headers.get("accept")):
            extra["incremental"] = True
        lease = pool.lease()
        gateway = await lease.__aenter__()
        try:
            result = await gateway.execute(
                params.query,
                params.variables,
                params.operation_name,
                subgraph_headers=request.subgraph_headers,
                allow_mutations=request.allow_mutations,
                include_plan=request.include_plan,
                claims=request.claims,
                **extra,
            )
        except BaseException:
            await lease.__aexit__(*sys.exc_info())
            raise
        headers = {"allow": "POST"} if result.status == "method_not_allowed" else {}
        subsequent = getattr(result, "subsequent", None)
        if subsequent is None:
            await lease.__aexit__(None, None, None)
            return RouterResponse(body=result.body, outcome=result.status, headers=headers)
        return RouterResponse(
            body=result.body, outcome=result.status, headers=headers, stream=_leased(subsequent, lease)
        )

    return handle


async def _leased(
    payloads: AsyncIterator[dict[str, Any]], lease: AbstractAsyncContextManager[Any]
) -> AsyncIterator[dict[str, Any]]:
    try:
        async for payload in payloads:
            yield payload
    finally:
        await aclose(payloads)
        await lease.__aexit__(None, None, None)


async def _stream(
    pool: GatewayPool, request: RouterRequest, slots: SubscriptionSlots | None
) -> AsyncIterator[dict[str, Any]]:
    assert request.graphql is not None
    if slots is None:
        yield {"errors": [{"message": "Subscriptions are turned off", "extensions": {"code": "SUBSCRIPTIONS_OFF"}}]}
        return
    if not slots.acquire():
        yield {"errors": [limit_error("on this router")]}
        return
    try:
        async with pool.lease() as gateway:
            started = await run_operation(
                gateway,
                request.graphql,
                subgraph_headers=request.subgraph_headers,
                claims=request.claims,
                allow_mutations=request.allow_mutations,
            )
            if started.events is None:
                assert started.single is not None
                yield started.single
                return
            try:
                async for body in started.events:
                    yield body
            finally:
                await aclose(started.events)
    finally:
        slots.release()
