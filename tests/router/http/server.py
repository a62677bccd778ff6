"""Run the router under a real uvicorn server on a free localhost port, in a thread."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from router.app import create_app
from router.settings import RouterSettings
from tests.router.http.fixtures import SUPERGRAPH_V1, AccountsSubgraph, make_gateway


@contextmanager
def running_router(make_app: Callable[[], tuple[Any, Callable[[], Any]]]) -> Iterator[str]:
    """``make_app()`` (called in the server's event loop) returns ``(app, async cleanup)``;
    yields the base URL. The socket is bound before the thread starts, so there is no port race."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    holder: dict[str, Any] = {}
    failure: list[BaseException] = []

    async def serve() -> None:
        app, cleanup = make_app()
        server = uvicorn.Server(
            uvicorn.Config(app, lifespan="on", log_level="warning", loop="asyncio", timeout_graceful_shutdown=2)
        )
        holder["server"] = server
        try:
            await server.serve(sockets=[sock])
        finally:
            await cleanup()

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # surfaced to the test below
            failure.append(exc)

    thread = threading.Thread(target=run, name="router-under-test", daemon=True)
    thread.start()
    try:
        for _ in range(1000):
            server = holder.get("server")
            if (server is not None and server.started) or failure or not thread.is_alive():
                break
            time.sleep(0.01)
        if failure:
            raise failure[0]
        assert holder["server"].started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        if "server" in holder:
            holder["server"].should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_accounts_router() -> Iterator[str]:
    """The router with default settings over the v1 supergraph and an in-process accounts subgraph,
    served by real uvicorn; yields the base URL."""
    subgraph = AccountsSubgraph()

    def make_app() -> tuple[Any, Callable[[], Any]]:
        gateway, _ = make_gateway(SUPERGRAPH_V1, subgraph)
        return create_app(RouterSettings(), gateway=gateway), gateway.aclose

    with running_router(make_app) as url:
        yield url
