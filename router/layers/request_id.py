"""Request id layer: one id per request, echoed in ``x-request-id`` and sent to subgraphs.

A client- or proxy-supplied id is kept when it looks sane (so traces join up across hops);
anything else is replaced, because the id ends up in logs and outgoing headers.
"""

from __future__ import annotations

import re
import uuid

from router.http.context import Handler, Layer, RouterRequest, RouterResponse

__all__ = ["REQUEST_ID_HEADER", "request_id_layer"]

REQUEST_ID_HEADER = "x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_layer() -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            incoming = request.http.headers.get(REQUEST_ID_HEADER)
            request_id = incoming if incoming and _SANE.match(incoming) else uuid.uuid4().hex
            request.http.state.request_id = request_id  # for the encoder's error masking
            response = await inner(request.evolve(request_id=request_id))
            response.headers.setdefault(REQUEST_ID_HEADER, request_id)
            return response

        return handle

    return wrap
