"""Graceful shutdown: on SIGTERM a service first stops being ready, then stops accepting, then
finishes the requests it has, then exits.

``/ready`` answers 503 from the signal on (load balancers stop sending new work) for ``drain_s``
while the listener still accepts what is already on its way; then uvicorn closes the listener, waits
up to ``timeout_s`` for in-flight requests and runs the app's shutdown (the settlement worker ends
its round). A second signal stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import uvicorn

__all__ = ["GracefulServer", "draining"]

logger = logging.getLogger("setrum.shutdown")
_draining = threading.Event()


def draining() -> bool:
    """True once this process was asked to stop: it is no longer ready for new work."""
    return _draining.is_set()


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, drain_s: float) -> None:
        super().__init__(config)
        self.drain_s = drain_s

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
