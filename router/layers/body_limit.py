"""Body size limit (the one limit enforced at the HTTP layer; the operation limits are validation
rules in :mod:`router.stages.limits`): refuse bodies over ``limits.max_body_bytes`` with 413 while reading them.

It has to run before the decoder (the only way to bound memory is to stop reading), so the
pipeline puts it first; ``Content-Length`` lets it refuse without reading at all.
"""

from __future__ import annotations

from router.errors import BadRequest, PayloadTooLarge
from router.http.context import Handler, Layer, RouterRequest, RouterResponse

__all__ = ["body_limit_layer", "read_body_limited"]


async def read_body_limited(request: RouterRequest, max_bytes: int) -> bytes:
    declared = request.http.headers.get("content-length")
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BadRequest("invalid Content-Length", code="INVALID_CONTENT_LENGTH") from None
        if length > max_bytes:
            raise PayloadTooLarge(f"request body is {length} bytes, the limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.http.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"request body exceeds the limit of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def body_limit_layer(max_bytes: int) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            if request.http.method == "GET":
                return await inner(request)
            return await inner(request.evolve(body=await read_body_limited(request, max_bytes)))

        return handle

    return wrap
