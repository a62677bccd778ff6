"""Password hashing (argon2id) off the event loop, and the password-strength rules.

Hashing costs tens of milliseconds of CPU and ~64 MiB of memory by design, so every call runs in
a worker thread: the event loop keeps serving other requests meanwhile. A capacity limiter caps
how many hashes run at once (default: one per CPU), so a burst of sign-ins queues instead of
claiming ``memory_kib`` per thread for every thread in the pool.
"""

from __future__ import annotations

import os

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "Passwords", "password_weaknesses"]

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 copes with more, but unbounded input is a cheap DoS


class Passwords:
    """Hash, verify and decide on rehashing with one set of argon2 parameters."""

    def __init__(self, *, time_cost: int, memory_kib: int, parallelism: int, concurrency: int | None = None) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._limiter = anyio.CapacityLimiter(concurrency or os.cpu_count() or 2)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verify_sync, password_hash, password, limiter=self._limiter)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash was made with other parameters (cheap: parses the header)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    async def burn(self, password: str) -> None:
        """Spend as long as a real verification, for unknown emails (no timing oracle)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("setrum-dummy-password-for-timing")
        await self.verify(self._dummy_hash, password)

    def _verify_sync(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def password_weaknesses(password: str, email: str | None = None) -> list[str]:
    """Every reason ``password`` is refused (empty when it is acceptable), in words for the user."""
    reasons: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        reasons.append(f"must be at least {MIN_PASSWORD_LENGTH} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        reasons.append(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other" for c in password
    }
    if password and len(classes) < 2:
        reasons.append("must mix at least two kinds of characters (lower-case, upper-case, digits, symbols)")
    if email:
        lowered = password.strip().lower()
        email = email.strip().lower()
        local = email.split("@", 1)[0]
        if lowered in (email, local):
            reasons.append("must not be your email address")
    return reasons
