"""A one-route app that answers its process id: which worker served a connection (tests/common/test_workers.py)."""

from __future__ import annotations

import os

import uvicorn
from starlette.types import Receive, Scope, Send


async def answer_pid(scope: Scope, receive: Receive, send: Send) -> None:
    body = str(os.getpid()).encode()
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def pid_app_config() -> uvicorn.Config:
    """What each worker serves (module level: the spawned workers import it)."""
    return uvicorn.Config(answer_pid, lifespan="off", log_level="warning")
