"""Body size limit (the one limit enforced at the HTTP layer; the operation limits are validation
rules in :mod:`router.stages.limits`): refuse bodies over ``limits.max_body_bytes`` with 413 while
reading them, and let only a few large bodies in at a time.

It has to run before the decoder (the only way to bound memory is to stop reading), so the
pipeline puts it first; ``Content-Length`` lets it refuse without reading at all.

Large bodies (over ``large_body_bytes``, 32 KB by default: our operations are a few hundred bytes)
pass a gate of ``max_large_bodies`` slots per process. Refusing a 1.2 MB document costs the router
about fifty times an ordinary request (receiving it, JSON-decoding it, counting its tokens), so a few
connections sending such documents back to back took most of the router's CPU and raised everyone's
latency six-fold. Behind the gate they queue on their own (their unread bytes wait in the socket)
and take at most one slot's share of the event loop; one that waits longer than
``large_body_wait_s`` is answered 503 ``OVERLOADED`` with ``Retry-After``. A body without
``Content-Length`` (chunked) joins the gate once it has grown past the threshold.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from router.errors import BadRequest, Overloaded, PayloadTooLarge
from router.http.context import Handler, Layer, RouterRequest, RouterResponse

__all__ = ["LargeBodyGate", "body_limit_layer", "read_body_limited"]


@dataclass(slots=True)
class LargeBodyGate:
    """At most ``slots`` large bodies in the pipeline at once (one per process by default)."""

    threshold: int
    slots: int
    wait_s: float
    _semaphore: asyncio.Semaphore | None = None

    @contextlib.asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if self._semaphore is None:  # created lazily: it must belong to the serving event loop
            self._semaphore = asyncio.Semaphore(self.slots)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait_s)
        except TimeoutError:
            raise Overloaded("too many large requests at once; retry shortly") from None
        try:
            yield
        finally:
            self._semaphore.release()


def _declared_length(request: RouterRequest, max_bytes: int | None) -> int | None:
    declared = request.http.headers.get("content-length")
    if declared is None:
        return None
    try:
        length = int(declared)
    except ValueError:
        raise BadRequest("invalid Content-Length", code="INVALID_CONTENT_LENGTH") from None
    if length < 0:
        raise BadRequest("invalid Content-Length", code="INVALID_CONTENT_LENGTH")
    if max_bytes is not None and length > max_bytes:
        raise PayloadTooLarge(f"request body is {length} bytes, the limit is {max_bytes}")
    return length


async def read_body_limited(
    request: RouterRequest,
    max_bytes: int | None,
    *,
    gate: LargeBodyGate | None = None,
    stack: contextlib.AsyncExitStack | None = None,
) -> bytes:
    """The body, refused past ``max_bytes``. With ``gate`` and ``stack``: once the body is
    larger than the gate's threshold (by ``Content-Length``, or as read when chunked), the gate
    is entered on ``stack``, which the caller keeps open while the request runs."""
    declared = _declared_length(request, max_bytes)
    pending = gate if stack is not None else None  # the gate, until entered
    if pending is not None and stack is not None and declared is not None and declared > pending.threshold:
        await stack.enter_async_context(pending.enter())
        pending = None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.http.stream():
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise PayloadTooLarge(f"request body exceeds the limit of {max_bytes} bytes")
        if pending is not None and stack is not None and size > pending.threshold:
            await stack.enter_async_context(pending.enter())
            pending = None
        chunks.append(chunk)
    return b"".join(chunks)


def body_limit_layer(max_bytes: int | None, gate: LargeBodyGate | None = None) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            if request.http.method == "GET":
                return await inner(request)
            async with contextlib.AsyncExitStack() as stack:
                body = await read_body_limited(request, max_bytes, gate=gate, stack=stack)
                if gate is not None and len(body) > gate.threshold:
                    await asyncio.sleep(0)  # let ordinary requests run between reading and decoding
                return await inner(request.evolve(body=body))

        return handle

    return wrap
