"""A circuit breaker for calls to a dependency that may go down (the biller).

closed: calls go through; ``failures`` failures in a row open it. open: calls are refused at once
for ``cooldown_s`` (the caller answers without waiting for a dependency that is not there). Then
half-open: one trial call goes through; its success closes the breaker, its failure opens it again.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Per process and per dependency; not thread-safe (one event loop uses it)."""

    def __init__(
        self, *, failures: int = 5, cooldown_s: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = max(1, failures)
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._failed_in_row = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at < self.cooldown_s:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    def available(self) -> bool:
        """Would a call be let through now (without taking the half-open trial)?"""
        state = self.state
        return state is BreakerState.CLOSED or (state is BreakerState.HALF_OPEN and not self._trial_running)

    def allow(self) -> bool:
        """Take permission for one call; every allowed call must end in :meth:`succeeded` or :meth:`failed`."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        return False

    def succeeded(self) -> None:
        self._failed_in_row = 0
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        self._failed_in_row += 1
        if self._trial_running or self._failed_in_row >= self.failures:
            self._opened_at = self._clock()
        self._trial_running = False
