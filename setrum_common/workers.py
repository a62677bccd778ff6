"""Several worker processes on one port, each shutting down gracefully (``*_WORKERS``, ``ROUTER_WORKERS``).

The parent binds the listening sockets, starts the first worker and waits until it serves (it runs the
migrations and the demo seed, which must not race), then starts the others; each worker is a
:class:`GracefulServer` on its socket. SIGTERM (or SIGINT) to the parent is passed to every worker once, so
each stops being ready, answers ``Connection: close`` for the drain time, finishes its requests and exits; the
parent waits for them all (killing what is still there after the drain and request timeouts) and exits. A
worker that dies on its own is started again; a worker that dies before it ever served stops the parent (a
broken configuration would fail the same way every time). On Linux each worker has a listening socket of its
own (``SO_REUSEPORT``, see :func:`_listeners`). Workers die with the parent (``PR_SET_PDEATHSIG``), so a
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


def _bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A listening socket for the workers (as uvicorn binds it)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _listeners(host: str, port: int, workers: int) -> list[socket.socket]:
    """Worker ``i``'s listening socket is ``[i]``: one each with ``SO_REUSEPORT`` on Linux, else one shared.

    On one shared socket every worker is woken by a burst of connections and the first to run accepts
    them all: a load generator's (or a load balancer's) 50 keep-alive connections could all land on one
    worker, and two workers served like one. With a socket each, the kernel spreads new connections over
    the listening ones by their address hash. The parent keeps every socket open, so the connections that
    reach a worker that died wait in its socket's queue for the worker started in its place."""
    if workers < 2 or not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        return [_bind(host, port)] * workers
    first = _bind(host, port, reuse_port=True)
    port = first.getsockname()[1]  # the port the system chose, when asked for any (0)
    return [first, *(_bind(host, port, reuse_port=True) for _ in range(workers - 1))]


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _worker(make_config: Callable[[], uvicorn.Config], drain_s: float, sock: socket.socket, up: EventType) -> None:
    _die_with_parent()
    server = GracefulServer(make_config(), drain_s=drain_s, started=up)
    server.run(sockets=[sock])


class _Supervisor:
    def __init__(self, make_config: Callable[[], uvicorn.Config], sockets: list[socket.socket], drain_s: float) -> None:
        self.make_config, self.sockets, self.drain_s = make_config, sockets, drain_s
        self.processes: list[tuple[SpawnProcess, EventType]] = []
        self.stop = threading.Event()

    def spawn(self, index: int) -> tuple[SpawnProcess, EventType]:
        """Worker ``index``, serving its listening socket."""
        up = _SPAWN.Event()
        args = (self.make_config, self.drain_s, self.sockets[index], up)
        process = _SPAWN.Process(target=_worker, args=args, daemon=False)
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
        first = self.spawn(0)
        self.processes.append(first)
        if not self.wait_up(*first, _FIRST_START_TIMEOUT_S):
            return False
        self.processes += [self.spawn(index) for index in range(1, len(self.sockets))]
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
            self.processes[index] = self.spawn(index)
        return True

    def shut_down(self, timeout_s: float) -> None:
        # The parent's copies of the listening sockets go first: once the last worker closes its own, the
        # port refuses connections (a load balancer moves on) instead of queueing them for nobody.
        self.close_sockets()
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

    def close_sockets(self) -> None:
        for sock in self.sockets:
            sock.close()  # closing a socket twice (the shared one) does nothing


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
    supervisor = _Supervisor(make_config, _listeners(host, port, workers), drain_s)

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
        supervisor.close_sockets()
