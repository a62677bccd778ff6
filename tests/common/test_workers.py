"""Worker processes on one port (setrum_common/workers.py), run as a service runs them, over real TCP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from setrum.launcher import REPO_ROOT, free_port

SERVE = """
from setrum_common.workers import run_workers
from tests.common.pid_app import pid_app_config
raise SystemExit(run_workers(pid_app_config, host="127.0.0.1", port={port}, workers=2, drain_s=0, timeout_s=5))
"""


async def _pid_over_new_connection(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(b"GET / HTTP/1.1\r\nhost: t\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(next(h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")).split(b":")[1])
        return int(await reader.readexactly(length))
    finally:
        writer.close()


@pytest.fixture
def two_workers() -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVE.format(port=port)], cwd=REPO_ROOT, env={**os.environ})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    try:
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def test_a_burst_of_new_connections_is_spread_over_both_workers(two_workers: int) -> None:
    # Both workers serving first (the second starts once the first is up), then 80 connections at once, as a
    # load balancer's pool opens them: on one shared socket the first worker to wake accepted them all.
    deadline = time.monotonic() + 30
    while len({await _pid_over_new_connection(two_workers) for _ in range(8)}) < 2:
        assert time.monotonic() < deadline, "the second worker never served"
    served = Counter(await asyncio.gather(*(_pid_over_new_connection(two_workers) for _ in range(80))))
    assert len(served) == 2 and min(served.values()) >= 24, served
