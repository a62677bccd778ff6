"""Deadline layer: how long the client waits (``x-setrum-deadline-ms``, else the configured default)
becomes the request's deadline, which every subgraph fetch respects and passes on less a margin
(see :mod:`setrum_common.deadline`)."""

from __future__ import annotations

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from setrum_common import deadline

__all__ = ["deadline_layer"]


def deadline_layer(default_s: float) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            deadline.start(deadline.parse_budget(request.http.headers.get(deadline.DEADLINE_HEADER), default_s))
            return await inner(request)

        return handle

    return wrap
