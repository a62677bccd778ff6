"""Password hashing (argon2id) off the event loop, behind a bounded queue, and the password-strength
rules.

Hashing costs tens of milliseconds of CPU and ~64 MiB of memory by design, so every call runs in
a worker thread: the event loop keeps serving other requests meanwhile. At most ``concurrency``
hashes run at once (default: one per CPU). The queue in front of them is bounded three ways, so a
sign-in storm is refused at once instead of making everyone wait behind it (8 concurrent sign-ins
pushed a legitimate one from 0.5 s to 4.4 s when the queue was unbounded):

* one client address may have at most ``per_client`` hashes running or waiting; more are refused
  with ``RATE_LIMITED`` (the storm from one address queues behind itself, not in front of others);
* at most ``max_waiting`` hashes wait in all; more are refused with ``OVERLOADED``;
* a hash that waited ``wait_s`` without a slot is refused with ``OVERLOADED``.

Both refusals carry ``retryAfterSeconds`` and come before any password is checked.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio
import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from setrum_common.errors import DomainError, ErrorCode

__all__ = ["MAX_PASSWORD_LENGTH", "MIN_PASSWORD_LENGTH", "HashQueue", "Passwords", "password_weaknesses"]

_T = TypeVar("_T")
RETRY_AFTER_S = 1


class HashQueue:
    """The bounded queue in front of the hashing threads (see the module docstring)."""

    def __init__(self, *, concurrency: int, max_waiting: int, per_client: int, wait_s: float) -> None:
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._max_waiting = max_waiting
        self._per_client = per_client
        self._wait_s = wait_s
        self._waiting = 0
        self._by_client: Counter[str] = Counter()

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        return self._limiter

    @asynccontextmanager
    async def admitted(self, client: str | None) -> AsyncIterator[None]:
        """Count ``client``'s place (running or waiting) while the block runs."""
        if client is not None and self._by_client[client] >= self._per_client:
            raise DomainError(
                ErrorCode.RATE_LIMITED,
                "Too many sign-ins at once from this address; retry shortly",
                retryAfterSeconds=RETRY_AFTER_S,
            )
        if client is not None:
            self._by_client[client] += 1
        try:
            yield
        finally:
            if client is not None:
                self._by_client[client] -= 1
                if self._by_client[client] <= 0:
                    del self._by_client[client]

    async def run(self, work: Callable[..., _T], *args: object, client: str | None) -> _T:
        async with self.admitted(client):
            await self._acquire()
            try:
                return await anyio.to_thread.run_sync(work, *args)
            finally:
                self._limiter.release()

    async def _acquire(self) -> None:
        try:
            self._limiter.acquire_nowait()
            return
        except anyio.WouldBlock:
            pass
        if self._waiting >= self._max_waiting:
            raise _overloaded()
        self._waiting += 1
        try:
            with anyio.fail_after(self._wait_s):
                await self._limiter.acquire()
        except TimeoutError:
            raise _overloaded() from None
        finally:
            self._waiting -= 1


def _overloaded() -> DomainError:
    return DomainError(
        ErrorCode.OVERLOADED, "Too many sign-ins at once; retry shortly", retryAfterSeconds=RETRY_AFTER_S
    )


MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256  # argon2 copes with more, but unbounded input is a cheap DoS


class Passwords:
    """Hash, verify and decide on rehashing with one set of argon2 parameters."""

    def __init__(
        self,
        *,
        time_cost: int,
        memory_kib: int,
        parallelism: int,
        concurrency: int | None = None,
        max_waiting: int | None = None,
        per_client: int = 4,
        wait_s: float = 2.0,
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        slots = concurrency or os.cpu_count() or 2
        self.queue = HashQueue(
            concurrency=slots,
            max_waiting=max_waiting if max_waiting is not None else 2 * slots,
            per_client=per_client,
            wait_s=wait_s,
        )
        self._dummy_hash: str | None = None

    async def hash(self, password: str, *, client: str | None = None) -> str:
        return await self.queue.run(self._hasher.hash, password, client=client)

    async def verify(self, password_hash: str, password: str, *, client: str | None = None) -> bool:
        return await self.queue.run(self._verify_sync, password_hash, password, client=client)

    def needs_rehash(self, password_hash: str) -> bool:
        """True when the stored hash was made with other parameters (cheap: parses the header)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True

    async def burn(self, password: str, *, client: str | None = None) -> None:
        """Spend as long as a real verification, for unknown emails (no timing oracle)."""
        if self._dummy_hash is None:
            self._dummy_hash = await anyio.to_thread.run_sync(self._hasher.hash, "setrum-dummy-password-for-timing")
        await self.verify(self._dummy_hash, password, client=client)

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
