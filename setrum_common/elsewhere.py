"""How long a request waited on someone else: another service's answer, or another request's.

The overload limiter (:mod:`setrum_common.overload`) must tell queueing in this process from a
downstream that is merely slow. A biller that takes 2 s instead of 50 ms makes every purchase slow,
but more purchases at once do not make it slower: shedding them would refuse sales for nothing. So
the limiter learns from a request's *own* time, its wall time less the time it spent here: awaiting
an HTTP answer from a sibling service (:class:`setrum_common.fastpath.http.HttpClient` marks it),
or waiting for the request that holds the same purchase (transactions' replays). Own time still
holds what does grow with our concurrency: the event loop (CPU), the database, its locks and pool.

Usage: the limiter wraps each request in :func:`measured`; code that waits on someone else wraps
the wait in :func:`waiting_elsewhere`. Waits that overlap (parallel subgraph fetches) count once.
Outside a measured request :func:`waiting_elsewhere` does nothing.

A wait on another service ends when its answer arrived (the services' HTTP client knows), not when
this process got round to reading it: on a busy event loop that lag is this process's own queueing,
and counted as elsewhere it hid a saturated transactions from its own limit (its purchases took
400 ms, of which 2 ms were the biller's and master's, and the limit kept growing).

One part of a wait on another service is not "merely slow": the time the request sat in that
service's overload queue (it says so in ``x-setrum-queued-ms``). That queue grows with *our*
concurrency, so it counts as our own time: the limit in front shrinks while the service behind
queues, before that service has to refuse (a refusal after a second in our queue is a slow one).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["QUEUED_HEADER", "Elsewhere", "measured", "queued_seconds", "waiting_elsewhere"]

# An answer's header: how long (ms) the request waited in the service's overload queue before it ran.
QUEUED_HEADER = "x-setrum-queued-ms"


def queued_seconds(value: str | bytes | None) -> float:
    """The :data:`QUEUED_HEADER` value in seconds; 0 when absent or not a small whole number."""
    if value is None or len(value) > 6 or not value.isdigit():
        return 0.0
    return int(value) / 1000


class Elsewhere:
    """The union of one request's waits on others, in seconds, and whether another service refused
    it as overloaded (back-pressure: the limit in front of this one should shrink, so the excess is
    refused here, cheaply, instead of costing the busy service its time to refuse it)."""

    __slots__ = (
        "_arrived_at",
        "_clock",
        "_open",
        "_since",
        "_total_s",
        "_unknown_arrival",
        "queued_by_others_s",
        "refused_by_others",
    )

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.refused_by_others = False
        self.queued_by_others_s = 0.0
        self._open = 0
        self._since = 0.0
        self._total_s = 0.0
        self._arrived_at = -math.inf
        self._unknown_arrival = False

    def enter(self) -> None:
        if self._open == 0:
            self._since = self._clock()
            self._arrived_at, self._unknown_arrival = -math.inf, False
        self._open += 1

    def leave(self, arrived_at: float | None = None) -> None:
        """End one wait; ``arrived_at``: when its answer arrived, if known. The time from then until the
        waiting code ran again is this process's own (its event loop was busy with other requests), so a
        wait that knows it ends there; several overlapping waits end when the last answer arrived."""
        self._open -= 1
        if arrived_at is None:
            self._unknown_arrival = True
        elif arrived_at > self._arrived_at:
            self._arrived_at = arrived_at
        if self._open == 0:
            now = self._clock()
            end = now if self._unknown_arrival else max(self._since, min(now, self._arrived_at))
            self._total_s += end - self._since

    @property
    def seconds(self) -> float:
        """Waited so far (a wait still open counts up to now)."""
        return self._total_s + (self._clock() - self._since if self._open else 0.0)

    @property
    def not_queued_s(self) -> float:
        """Waited on others less what they said they held us in their queues: the part of the
        wait that more concurrency here would not lengthen."""
        return max(0.0, self.seconds - self.queued_by_others_s)


_CURRENT: ContextVar[Elsewhere | None] = ContextVar("setrum_elsewhere", default=None)


@contextmanager
def measured(clock: Callable[[], float] = time.monotonic) -> Iterator[Elsewhere]:
    """Count the waits on others of the code inside (and of the tasks it starts)."""
    tracker = Elsewhere(clock)
    token = _CURRENT.set(tracker)
    try:
        yield tracker
    finally:
        _CURRENT.reset(token)


class _Wait:
    __slots__ = ("_tracker", "arrived_at")

    def __init__(self, tracker: Elsewhere | None) -> None:
        self._tracker = tracker
        self.arrived_at: float | None = None

    def answered_at(self, seconds: float | None) -> None:
        """The answer's last byte arrived at ``seconds`` (the tracker's clock): the wait ends there."""
        self.arrived_at = seconds

    def refused(self) -> None:
        """The other service answered that it is overloaded (503)."""
        if self._tracker is not None:
            self._tracker.refused_by_others = True

    def queued(self, seconds: float) -> None:
        """The other service held the request this long in its overload queue before serving it."""
        if self._tracker is not None and seconds > 0:
            self._tracker.queued_by_others_s += seconds


@contextmanager
def waiting_elsewhere() -> Iterator[_Wait]:
    """Mark the code inside as waiting on another service or request, not working here."""
    tracker = _CURRENT.get()
    if tracker is None:
        yield _Wait(None)
        return
    tracker.enter()
    wait = _Wait(tracker)
    try:
        yield wait
    finally:
        tracker.leave(wait.arrived_at)
