"""Sending a fetch again when the subgraph refused it as overloaded, within a retry budget.

A service's overload limit refuses a request *before* running it (HTTP 503 with a GraphQL error coded
``OVERLOADED``, setrum_common/overload.py), so sending it again is safe, a mutation included: nothing
was done the first time. It is worth doing when the service's queue was full for a moment (its limit
had just shrunk below what was in flight, or a baseline probe held it at one): the client would
otherwise get an error for a purchase that a pause of a few tens of milliseconds would have sold. In a
real storm it must not double the load on the service that is already refusing, so retries draw on a
budget, as Finagle's and Apollo Router's do: each fetch deposits ``percent`` of a retry, a trickle of
``min_per_s`` keeps a quiet router able to retry at all, and a retry takes one whole token. At most one
retry per fetch, and only if the client's deadline leaves room for the pause.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RetryBudget", "RetryPolicy", "refused_as_overloaded"]

_OVERLOADED_MARKER = b'"OVERLOADED"'


def refused_as_overloaded(status: int, content: bytes) -> bool:
    """A service's overload refusal: 503 and an ``OVERLOADED`` error in the body (a plain 503, from a
    proxy or a draining server, says nothing about whether the request ran)."""
    return status == 503 and _OVERLOADED_MARKER in content


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How refused fetches are retried (see the module docstring)."""

    delay_s: float = 0.025
    percent: float = 0.2
    min_per_s: float = 10.0
    # The budget holds at most this many seconds of deposits: a long quiet spell must not save up
    # a burst of retries for the first second of a storm.
    window_s: float = 10.0


class RetryBudget:
    """Tokens for retries: ``percent`` per fetch plus ``min_per_s`` per second, capped at what
    ``window_s`` of the trickle brings; a retry spends one. A fetch only counts itself (every fetch
    passes here, and refusals are rare): the tokens are worked out when a retry asks for one."""

    __slots__ = ("_at", "_balance", "_cap", "_clock", "_sent", "policy")

    def __init__(self, policy: RetryPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._cap = max(1.0, policy.min_per_s * policy.window_s)
        self._balance = min(self._cap, max(1.0, policy.min_per_s))
        self._sent = 0
        self._at = clock()

    def deposit(self) -> None:
        """One fetch sent: it earns ``percent`` of a retry."""
        self._sent += 1

    def withdraw(self) -> bool:
        """Spend one retry; False when the budget is spent. (Every earning only adds, so capping their
        sum once is the same as capping after each.)"""
        now = self._clock()
        earned = (now - self._at) * self.policy.min_per_s + self._sent * self.policy.percent
        self._balance = min(self._cap, self._balance + earned)
        self._at, self._sent = now, 0
        if self._balance < 1.0:
            return False
        self._balance -= 1.0
        return True
