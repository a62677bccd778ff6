"""Query plan layer: a client may ask for the plan with ``x-setrum-query-plan: true``.

Only installed by :mod:`router.pipeline` when ``query_plan.expose`` is enabled, so in the
default configuration the header does nothing (plans reveal the subgraph topology).
"""

from __future__ import annotations

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.settings import QUERY_PLAN_HEADER

__all__ = ["query_plan_layer"]

_TRUE = frozenset({"true", "1", "yes"})


def query_plan_layer() -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            wanted = request.http.headers.get(QUERY_PLAN_HEADER, "").strip().lower() in _TRUE
            return await inner(request.evolve(include_plan=wanted) if wanted else request)

        return handle

    return wrap
