"""The servers the refusalcost section measures, one per process: ``python -m bench.refusal.servers MODE PORT``.

``door``: uvicorn with the router's HTTP protocol (the overload door) in front of an app whose limiter is full
and whose queue holds nothing, so every request is refused at once, after the router's refusal delay (as the
router runs). ``app``: the same app on uvicorn's plain httptools protocol: its middleware refuses, after the
same delay. ``bare``: an asyncio protocol that answers every request at once with the same 503 bytes, the
floor for a Python server on this event loop.
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
import uvloop
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from router.settings import OverloadSettings
from setrum_common.http_server import http_protocol, refusal_response
from setrum_common.overload import AdaptiveLimiter, Admission, LimiterOptions, OverloadMiddleware, overloaded_body

__all__ = ["refusing_app"]


def refusing_app(refusal_delay_s: float = OverloadSettings().refusal_delay_s) -> Starlette:
    """A /graphql app whose limiter refuses every request at once (a limit of one, held, and no queue),
    each refusal held ``refusal_delay_s`` first (the router's default)."""
    limiter = AdaptiveLimiter(LimiterOptions(initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=0.0))
    limiter.in_flight = 1  # the one slot, taken for good

    async def graphql(request: Request) -> PlainTextResponse:
        return PlainTextResponse("never reached")

    admission = Admission(limiter=limiter, refusal_delay_s=refusal_delay_s)
    app = Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"])],
        middleware=[Middleware(OverloadMiddleware, admission=admission)],
    )
    app.state.admission = admission
    return app


class _Bare(asyncio.Protocol):
    """Answers each whole request (head and a Content-Length body) with the same 503."""

    response = refusal_response([], overloaded_body(), True)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end].lower()
            at = head.find(b"content-length:")
            length = int(head[at + 15 :].split(b"\r\n", 1)[0]) if at >= 0 else 0
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            self.transport.write(self.response)
        self.buffer = buffer


async def _serve_bare(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(_Bare, "127.0.0.1", port)
    await server.serve_forever()


def main(mode: str, port: int) -> None:
    if mode == "bare":
        uvloop.run(_serve_bare(port))
        return
    protocol = http_protocol() if mode == "door" else "httptools"
    uvicorn.run(
        refusing_app(), host="127.0.0.1", port=port, http=protocol, loop="uvloop", log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
