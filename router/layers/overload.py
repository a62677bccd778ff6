"""Overload layer: the router's adaptive concurrency limit (see :mod:`setrum_common.overload`).

It sits right after decoding, so the operation text tells a purchase or a sign-in (which go first)
from a heavy read; a request refused by the limit is answered at once with 503, ``Retry-After`` and
a GraphQL error coded ``OVERLOADED``, without planning or calling any subgraph.
"""

from __future__ import annotations

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from setrum_common.overload import OVERLOADED, PRIORITY_SCAN_BYTES, RETRY_AFTER_S, AdaptiveLimiter, priority_marker

__all__ = ["overload_layer"]

_REFUSED = {"errors": [{"message": "The router is overloaded; retry shortly", "extensions": {"code": OVERLOADED}}]}


def overload_layer(limiter: AdaptiveLimiter) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            query = request.graphql.query if request.graphql is not None else ""
            text = query.encode() if len(query) <= PRIORITY_SCAN_BYTES else b""  # a long one is never priority
            kind = priority_marker(text)
            if not await limiter.acquire(priority=kind is not None):
                return RouterResponse(
                    body=_REFUSED, outcome="request_error", headers={"retry-after": str(RETRY_AFTER_S)}, status=503
                )
            with limiter.running(kind) as slot:
                response = await inner(request)
                slot.failed = response.status is not None and response.status >= 500
                return response

        return handle

    return wrap
