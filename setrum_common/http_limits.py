"""Request-head limits for every service (the router, the subgraphs, the biller), answered with 431.

A client (or a misbehaving peer) can send a request whose headers are megabytes long: an 8 MB
``Authorization`` header was accepted by the router and forwarded to every subgraph. uvicorn's
default parser (httptools) sets no bound, so the check happens here, first thing in the ASGI app,
before any layer reads a header: a request line plus headers over ``max_request_head_bytes``, or
one header line over ``max_header_bytes``, is answered ``431 Request Header Fields Too Large``
(RFC 6585) with a GraphQL error body, and the connection is closed. Nothing of it is forwarded.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_REQUEST_HEAD_BYTES",
    "HeaderLimitMiddleware",
    "HeaderLimits",
    "head_limit_problem",
]

DEFAULT_MAX_REQUEST_HEAD_BYTES = 16 * 1024
DEFAULT_MAX_HEADER_BYTES = 8 * 1024


@dataclass(frozen=True, slots=True)
class HeaderLimits:
    max_request_head_bytes: int = DEFAULT_MAX_REQUEST_HEAD_BYTES
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES


def head_limit_problem(scope: Scope, limits: HeaderLimits) -> str | None:
    """Why this request's head is over the limits (as it was on the wire), or None."""
    target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string") or b"") + 1
    total = len(scope.get("method", "GET")) + target + len(" HTTP/1.1\r\n")  # a WebSocket handshake is a GET
    for name, value in scope["headers"]:
        line = len(name) + len(value) + 4  # "name: value\r\n"
        if line > limits.max_header_bytes:
            return f"the {name.decode('latin-1')[:64]} header is larger than {limits.max_header_bytes} bytes"
        total += line
        if total > limits.max_request_head_bytes:
            break
    if total > limits.max_request_head_bytes:
        return f"the request headers are larger than {limits.max_request_head_bytes} bytes"
    return None


class HeaderLimitMiddleware:
    """Outermost ASGI middleware: 431 for a request head over :class:`HeaderLimits`."""

    def __init__(self, app: ASGIApp, limits: HeaderLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            problem = head_limit_problem(scope, self.limits)
            if problem is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1009})
                    return
                body = orjson.dumps(
                    {"errors": [{"message": problem, "extensions": {"code": "REQUEST_HEADER_FIELDS_TOO_LARGE"}}]}
                )
                await send(
                    {
                        "type": "http.response.start",
                        "status": 431,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
