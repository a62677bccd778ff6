"""Several worker processes on one port, each shutting down gracefully (``*_WORKERS``, ``ROUTER_WORKERS``).

The parent binds the socket, starts the first worker and waits until it serves (it runs the migrations and
the demo seed, which must not race), then starts the others; each worker is a :class:`GracefulServer` on
the shared socket. SIGTERM (or SIGINT) to the parent is passed to every worker once, so each stops being
ready, answers ``Connection: close`` for the drain time, finishes its requests and exits; the parent waits
for them all (killing what is still there after the drain and request timeouts) and exits. A worker that
dies on its own is started again; a worker that dies before it ever served stops the parent (a broken
configuration would fail the same way every time). Workers die with the parent (``PR_SET_PDEATHSIG``), so a
SIGKILL of the parent crashes the whole service as it would a single process.

uvicorn's own ``workers=`` supervisor is not used: its workers are plain ``uvicorn.Server`` objects, which
have no drain period, and it wants an import string where the services build their app in the worker.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as EventType
from types import FrameType

import uvicorn

from .shutdown import GracefulServer

__all__ = ["run_workers"]

logger = logging.getLogger("setrum.workers")
_SPAWN = multiprocessing.get_context("spawn")
_PR_SET_PDEATHSIG = 1
_FIRST_START_TIMEOUT_S = 120.0


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker serves (as uvicorn binds it)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _worker(make_config: Callable[[], uvicorn.Config], drain_s: float, sock: socket.socket, up: EventType) -> None:
    _die_with_parent()
    server = GracefulServer(make_config(), drain_s=drain_s, started=up)
    server.run(sockets=[sock])


class _Supervisor:
    def __init__(
        self, make_config: Callable[[], uvicorn.Config], sock: socket.socket, workers: int, drain_s: float
    ) -> None:
        self.make_config, self.sock, self.count, self.drain_s = make_config, sock, workers, drain_s
        self.processes: list[tuple[SpawnProcess, EventType]] = []
        self.stop = threading.Event()

    def spawn(self) -> tuple[SpawnProcess, EventType]:
        up = _SPAWN.Event()
        process = _SPAWN.Process(target=_worker, args=(self.make_config, self.drain_s, self.sock, up), daemon=False)
        process.start()
        return process, up

    def wait_up(self, process: SpawnProcess, up: EventType, timeout_s: float) -> bool:
        give_up = time.monotonic() + timeout_s
        while time.monotonic() < give_up and not self.stop.is_set():
            if up.wait(0.1):
                return True
            if not process.is_alive():
                return False
        return False

    def start(self) -> bool:
        first = self.spawn()
        self.processes.append(first)
        if not self.wait_up(*first, _FIRST_START_TIMEOUT_S):
            return False
        self.processes += [self.spawn() for _ in range(self.count - 1)]
        return True

    def keep_alive(self) -> bool:
        """Start again a worker that died on its own; False when one died before it ever served."""
        for index, (process, up) in enumerate(self.processes):
            if process.is_alive() or self.stop.is_set():
                continue
            if not up.is_set():
                logger.error("worker %s exited with %s before it served; stopping", process.pid, process.exitcode)
                return False
            logger.warning("worker %s exited with %s; starting another", process.pid, process.exitcode)
            self.processes[index] = self.spawn()
        return True

    def shut_down(self, timeout_s: float) -> None:
        # The parent's copy of the listening socket goes first: once the last worker closes its own, the
        # port refuses connections (a load balancer moves on) instead of queueing them for nobody.
        self.sock.close()
        for process, _ in self.processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        give_up = time.monotonic() + timeout_s
        for process, _ in self.processes:
            process.join(max(0.0, give_up - time.monotonic()))
            if process.is_alive():
                logger.error("worker %s still running after %.0fs; killed", process.pid, timeout_s)
                process.kill()
                process.join()


def run_workers(
    make_config: Callable[[], uvicorn.Config],
    *,
    host: str,
    port: int,
    workers: int,
    drain_s: float,
    timeout_s: float,
) -> int:
    """Serve ``make_config()`` (called in each worker; it must be picklable, e.g. a ``functools.partial`` of a
    module-level function) from ``workers`` processes until SIGTERM/SIGINT; 0 on a clean stop, 1 when a worker
    could not start."""
    sock = _bind(host, port)
    supervisor = _Supervisor(make_config, sock, workers, drain_s)

    def on_signal(sig: int, _: FrameType | None) -> None:
        logger.info("%s received: draining %d workers", signal.Signals(sig).name, workers)
        supervisor.stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        started = supervisor.start()
        ok = started or supervisor.stop.is_set()  # a signal during start-up is a clean stop
        while started and ok and not supervisor.stop.wait(0.5):
            ok = supervisor.keep_alive()
        supervisor.shut_down(drain_s + timeout_s + 5.0)
        return 0 if ok else 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sock.close()
