"""Graceful shutdown: on SIGTERM a service first stops being ready, then stops accepting, then
finishes the requests it has, then exits.

``/ready`` answers 503 from the signal on (load balancers stop sending new work) for ``drain_s``
while the listener still accepts what is already on its way; then uvicorn closes the listener, waits
up to ``timeout_s`` for in-flight requests and runs the app's shutdown (the settlement worker ends
its round). A second signal stops at once. While draining, responses carry ``Connection: close``
(:class:`CloseWhenDrainingMiddleware`), so keep-alive clients move to another replica.
With several worker processes (``setrum_common/workers.py``) each worker does all of this.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from types import FrameType
from typing import Protocol

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CloseWhenDrainingMiddleware", "GracefulServer", "draining"]

logger = logging.getLogger("setrum.shutdown")


class _SetOnce(Protocol):
    def set(self) -> None: ...


_draining = threading.Event()


def draining() -> bool:
    """True once this process was asked to stop: it is no longer ready for new work."""
    return _draining.is_set()


class GracefulServer(uvicorn.Server):
    """``started``: set once the server serves (a worker tells its supervisor; see ``workers.py``)."""

    def __init__(self, config: uvicorn.Config, *, drain_s: float, started: _SetOnce | None = None) -> None:
        super().__init__(config)
        self.drain_s = drain_s
        self.started_event = started

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.started_event is not None:
            self.started_event.set()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if draining() or self.drain_s <= 0 or sig not in (signal.SIGTERM, signal.SIGINT):
            _draining.set()
            super().handle_exit(sig, frame)
            return
        _draining.set()
        logger.info("%s received: not ready; stopping in %.1fs", signal.Signals(sig).name, self.drain_s)
        timer = threading.Timer(self.drain_s, super().handle_exit, args=(sig, None))
        timer.daemon = True
        timer.start()


class CloseWhenDrainingMiddleware:
    """While draining, every response says ``Connection: close``: a keep-alive client (the router's pool, a
    load balancer) opens its next connection elsewhere instead of reusing one to a server that is going away."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _draining.is_set():
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
