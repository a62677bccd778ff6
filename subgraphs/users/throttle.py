"""Sign-in throttling per (email, client IP) that holds across replicas: the counter lives in the
database.

Every attempt is counted *before* the password is checked, in one atomic upsert, and a
successful sign-in deletes the counter. So within one window at most ``max_failures``
passwords are ever verified for an email from one address, however many replicas receive
attempts at the same moment; the next attempts from that address are refused with
``TOO_MANY_ATTEMPTS`` (even with the right password) until the window, counted from its first
attempt, has passed.

Keyed by the pair, not the email alone: a throttle per email let anyone lock any customer out
for a window with five wrong passwords. Now the attacker locks out only themselves, and the
owner, signing in from their own address, is never refused. How many emails one address may
try is bounded by the router's per-IP sign-in rule; an attacker with many addresses gets
``max_failures`` guesses per address per window, which argon2's cost and the router's limits keep
slow. The client IP comes from the router (:mod:`.client_ip`).

Unknown emails are counted like known ones, so the answer never tells whether an account
exists. Counters whose window has expired are deleted by later attempts (a bounded batch each
time), so the table does not grow with abandoned emails.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from . import repository
from .settings import UsersSettings

__all__ = ["TOO_MANY_ATTEMPTS", "SigninThrottle"]

TOO_MANY_ATTEMPTS = ErrorCode.TOO_MANY_ATTEMPTS


@dataclass(frozen=True, slots=True)
class SigninThrottle:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    clock: Callable[[], datetime] = field(default=utc_now)

    @classmethod
    def from_settings(cls, settings: UsersSettings, clock: Callable[[], datetime] = utc_now) -> SigninThrottle:
        return cls(max_failures=settings.signin_max_failures, window=settings.signin_window, clock=clock)

    async def admit(self, db: Database, email: str, client_ip: str) -> None:
        """Count this attempt; refuse it if (email, address) already used up its window."""
        now = self.clock()
        async with db.transaction(write=True) as session:
            attempts, started = await repository.count_signin_attempt(
                session, email, client_ip, now=now, window_cutoff=now - self.window
            )
            # Housekeeping rides along, a bounded batch at a time: expired counters are dead weight.
            await repository.forget_expired_signin_attempts(session, window_cutoff=now - self.window)
        # ``attempts`` includes this one: the first max_failures attempts are let through.
        if attempts > self.max_failures:
            retry_after = max(1, math.ceil((started + self.window - now).total_seconds()))
            raise DomainError(
                TOO_MANY_ATTEMPTS,
                f"Too many failed sign-ins for this email from this address; try again in {retry_after} seconds",
                retryAfterSeconds=retry_after,
            )

    async def succeeded(self, db: Database, email: str, client_ip: str) -> None:
        """The right password: forget this address's failures for the email."""
        async with db.transaction(write=True) as session:
            await repository.clear_signin_attempts(session, email, client_ip)
