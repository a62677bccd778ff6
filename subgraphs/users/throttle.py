"""Sign-in throttling per email that holds across replicas: the counter lives in the database.

Every attempt is counted *before* the password is checked, in one atomic upsert, and a
successful sign-in deletes the counter. So within one window at most ``max_failures``
passwords are ever verified for an email, however many replicas receive attempts at the same
moment; the next attempts are refused with ``TOO_MANY_ATTEMPTS`` (even with the right password)
until the window, counted from its first attempt, has passed.

Unknown emails are counted like known ones, so the answer never tells whether an account
exists. The price of per-email throttling: anyone can lock an email out for one window.
Counters whose window has expired are deleted by later attempts (a bounded batch each time), so
the table does not grow with abandoned emails.
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

    async def admit(self, db: Database, email: str) -> None:
        """Count this attempt; refuse it if the email already used up its window."""
        now = self.clock()
        async with db.transaction(write=True) as session:
            attempts, started = await repository.count_signin_attempt(
                session, email, now=now, window_cutoff=now - self.window
            )
            # Housekeeping rides along, a bounded batch at a time: expired counters are dead weight.
            await repository.forget_expired_signin_attempts(session, window_cutoff=now - self.window)
        # ``attempts`` includes this one: the first max_failures attempts are let through.
        if attempts > self.max_failures:
            retry_after = max(1, math.ceil((started + self.window - now).total_seconds()))
            raise DomainError(
                TOO_MANY_ATTEMPTS,
                f"Too many failed sign-ins for this email; try again in {retry_after} seconds",
                retryAfterSeconds=retry_after,
            )

    async def succeeded(self, db: Database, email: str) -> None:
        """The right password: forget the failures."""
        async with db.transaction(write=True) as session:
            await repository.clear_signin_attempts(session, email)
