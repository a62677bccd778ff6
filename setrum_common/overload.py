"""Overload protection: an adaptive concurrency limit with a short queue, in front of a service.

Queueing without bound is how a storm takes a server down: every request waits behind all the others
until they all time out. Instead, at most ``limit`` requests run at once and the limit follows the
latency the service shows, as Netflix's concurrency-limits (Gradient2) and Envoy's adaptive
concurrency filter do:

    gradient  = clamp(tolerance × long-term latency / recent latency, 0.5, 1)
    new limit = limit × gradient + √limit            (the √limit lets a little queue form)
    limit     = smoothed towards new limit, within [min_limit, max_limit]

While latency stays near its long-term level the limit grows by about √limit per sample (when the
limit is actually in use); when requests start to queue inside the service, recent latency rises and
the limit shrinks. A request over the limit waits at most ``queue_timeout_s`` for a slot, then is
refused at once (HTTP 503 with ``Retry-After``, a GraphQL error with code ``OVERLOADED``), so the
requests that are admitted keep their latency. Priority requests (purchases, sign-ins) may use the
whole limit and are woken first; the others only ``low_priority_share`` of it, so heavy reads are
shed before a purchase is.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "OVERLOADED",
    "PRIORITY_MARKERS",
    "PRIORITY_SCAN_BYTES",
    "AdaptiveLimiter",
    "LimiterOptions",
    "OverloadMiddleware",
    "is_priority",
    "overloaded_body",
]

OVERLOADED = "OVERLOADED"
RETRY_AFTER_S = 1
# Operations that move money or let a customer in go first; anything else (reads, reports) may wait.
PRIORITY_MARKERS = (b"purchaseToken", b"signIn", b"topUpWallet", b"settlePurchase")
PRIORITY_SCAN_BYTES = 16 * 1024
_EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})


@dataclass(frozen=True, slots=True)
class LimiterOptions:
    initial_limit: int = 64
    min_limit: int = 8
    max_limit: int = 512
    queue_timeout_s: float = 0.05
    low_priority_share: float = 0.75
    tolerance: float = 2.0
    smoothing: float = 0.2


def is_priority(text: bytes) -> bool:
    """Whether the request text names a priority operation. A text over
    :data:`PRIORITY_SCAN_BYTES` never does (ours are a few hundred bytes): scanning a flood of
    megabyte documents for the markers cost more than refusing them."""
    return len(text) <= PRIORITY_SCAN_BYTES and any(marker in text for marker in PRIORITY_MARKERS)


def overloaded_body() -> bytes:
    return orjson.dumps(
        {"errors": [{"message": "The service is overloaded; retry shortly", "extensions": {"code": OVERLOADED}}]}
    )


class AdaptiveLimiter:
    """The gradient limit and its two wait queues; one per process (one event loop)."""

    def __init__(self, options: LimiterOptions | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options or LimiterOptions()
        self.limit = float(self.options.initial_limit)
        self.in_flight = 0
        self.refused = 0
        self._clock = clock
        self._long_rtt: float | None = None
        self._short_rtt: float | None = None
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    def _cap(self, priority: bool) -> float:
        return self.limit if priority else self.limit * self.options.low_priority_share

    async def acquire(self, *, priority: bool) -> bool:
        """Take a slot (waiting at most ``queue_timeout_s``); False: refuse the request."""
        if self.in_flight < self._cap(priority) and not self._waiting[0]:
            self.in_flight += 1
            return True
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if priority else 1]
        queue.append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout=self.options.queue_timeout_s)
            return True
        except TimeoutError:
            if future.done():  # granted at the last moment: keep the slot
                return True
            future.cancel()
            queue.remove(future)
            self.refused += 1
            return False

    def release(self, started: float, *, failed: bool) -> None:
        """Give the slot back and learn from the request's latency (a failure counts as very slow)."""
        self.in_flight -= 1
        rtt = self._clock() - started
        self._learn(rtt * 2 if failed else rtt)
        self._wake()

    def _wake(self) -> None:
        for priority, queue in ((True, self._waiting[0]), (False, self._waiting[1])):
            while queue and self.in_flight < self._cap(priority):
                future = queue.popleft()
                if not future.done():
                    self.in_flight += 1
                    future.set_result(None)

    def _learn(self, rtt: float) -> None:
        options = self.options
        self._short_rtt = rtt if self._short_rtt is None else self._short_rtt * 0.5 + rtt * 0.5
        self._long_rtt = rtt if self._long_rtt is None else self._long_rtt * 0.95 + rtt * 0.05
        if self._long_rtt > 2 * self._short_rtt:  # recovering from a slow period: forget it faster
            self._long_rtt *= 0.9
        # An app-limited service (far from its limit) says nothing about a higher one.
        if self.in_flight < self.limit / 2 and self._short_rtt <= self._long_rtt:
            return
        gradient = max(0.5, min(1.0, options.tolerance * self._long_rtt / max(self._short_rtt, 1e-6)))
        new_limit = self.limit * gradient + math.sqrt(self.limit)
        smoothed = self.limit * (1 - options.smoothing) + new_limit * options.smoothing
        self.limit = max(float(options.min_limit), min(float(options.max_limit), smoothed))


class OverloadMiddleware:
    """The limiter around an ASGI app: POST bodies and GET query strings that carry a priority marker
    go first; ``/health``, ``/ready`` and ``/metrics`` are never limited."""

    def __init__(self, app: ASGIApp, *, limiter: AdaptiveLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        if scope["method"] == "POST":
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            text = b"".join(m.get("body", b"") for m in messages)
        else:
            text = scope.get("query_string", b"")
        if not await self.limiter.acquire(priority=is_priority(text)):
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", str(RETRY_AFTER_S).encode())],
                }
            )
            await send({"type": "http.response.body", "body": overloaded_body()})
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.monotonic()
        try:
            await self.app(scope, replay if messages else receive, send_status)
        finally:
            self.limiter.release(started, failed=status >= 500)
