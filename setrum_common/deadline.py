"""Request deadlines that flow router -> subgraphs -> biller, instead of equal per-hop timeouts.

A caller says how long it will wait with the ``x-setrum-deadline-ms`` header (milliseconds left,
relative, so no clocks need to agree); without it a service assumes its default. Each hop keeps a
margin for its own answer and gives the next hop only what is left, so the innermost call times
out first: transactions learns that the biller did not answer while the router still waits, and the
client gets its purchase's id and PENDING rather than a transport error.

The deadline is held per request in a context variable (:class:`DeadlineMiddleware` sets it); code
making an outgoing call asks :func:`budget_s` for its timeout and :func:`outgoing` for the header.
"""

from __future__ import annotations

import time
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "DEADLINE_HEADER",
    "MIN_BUDGET_S",
    "DeadlineMiddleware",
    "budget_s",
    "outgoing",
    "parse_budget",
    "remaining_s",
    "start",
]

DEADLINE_HEADER = "x-setrum-deadline-ms"
_HEADER_BYTES = DEADLINE_HEADER.encode()
MIN_BUDGET_S = 0.05  # an outgoing call gets at least this, so an exhausted budget fails fast, not at once
_MAX_BUDGET_S = 300.0

# Absolute time.monotonic() by which the current request must be answered (None: no deadline).
_deadline: ContextVar[float | None] = ContextVar("setrum_deadline", default=None)


def parse_budget(value: str | bytes | None, default_s: float) -> float:
    """Seconds the caller still waits: the header's milliseconds, else ``default_s`` (bounded, never negative)."""
    if value:
        try:
            return min(max(int(value) / 1000.0, 0.0), _MAX_BUDGET_S)
        except ValueError:
            pass
    return default_s


def start(budget: float) -> None:
    """The current request (context) must be answered within ``budget`` seconds from now."""
    _deadline.set(time.monotonic() + budget)


def clear() -> None:
    """No deadline from here on in this context: a stream (a subscription) outlives its opening request, and
    each of its subgraph calls is bounded by its own timeout instead."""
    _deadline.set(None)


def remaining_s() -> float | None:
    """Seconds left for the current request, or None when it has no deadline."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def budget_s(timeout_s: float, margin_s: float) -> float:
    """The timeout of an outgoing call: its own ``timeout_s``, but no later than the request's deadline
    less ``margin_s`` (kept to answer our caller after that call times out)."""
    left = remaining_s()
    if left is None:
        return timeout_s
    return max(MIN_BUDGET_S, min(timeout_s, left - margin_s))


def outgoing(timeout_s: float) -> dict[str, str]:
    """The header telling the next hop how long we will wait for it."""
    return {DEADLINE_HEADER: str(max(1, int(timeout_s * 1000)))}


class DeadlineMiddleware:
    """Sets the request's deadline from its header (or ``default_s``) for everything the request runs."""

    def __init__(self, app: ASGIApp, *, default_s: float) -> None:
        self.app = app
        self.default_s = default_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            header = next((v for k, v in scope["headers"] if k == _HEADER_BYTES), None)
            start(parse_budget(header, self.default_s))
        await self.app(scope, receive, send)
