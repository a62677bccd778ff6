"""The innermost handler: run the decoded request on the current gateway.

An incremental response (``@defer``) keeps its lease on the gateway until the last payload is sent,
so a supergraph reload never closes the subgraph client under a running deferred part.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from router.http.context import Handler, RouterRequest, RouterResponse
from router.http.multipart import accepts_multipart_defer

from .reload import GatewayPool

__all__ = ["execute_handler"]


def execute_handler(pool: GatewayPool) -> Handler:
    async def handle(request: RouterRequest) -> RouterResponse:
        assert request.graphql is not None, "execute runs after decoding"
        params = request.graphql
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
        aclose = getattr(payloads, "aclose", None)
        if aclose is not None:
            await aclose()
        await lease.__aexit__(None, None, None)
