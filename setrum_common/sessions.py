"""Revocable customer sessions: a token is good only while its account's session version matches.

Every customer token carries ``sid`` (this session) and ``sv`` (the account's session version when
it was issued). "Sign out everywhere" raises the version, so every earlier token fails. A password
change raises it too but keeps the session that made the change (``kept``), so the customer who
changed it stays signed in while every other holder of an old token is signed out.

The users subgraph owns the versions (its database); the other services ask it over HTTP
(``GET /internal/sessions/{customer_id}``, signed with the asking service's own key). Answers are cached for a few
seconds per process (``SETRUM_SESSION_CACHE_S``), so a revocation reaches other replicas and
services within that time; the replica that revokes forgets its cached answer at once. Concurrent
requests of one customer whose answer is not cached share one question to users (a burst of a
customer's purchases costs users one lookup, not one each). The lookup goes through the services'
shared HTTP client (:class:`setrum_common.fastpath.http.HttpClient`), the same keep-alive pool as
every other call between services.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from .auth import Viewer
from .errors import DomainError, ErrorCode
from .fastpath.http import HttpClient
from .trust.service_keys import ServiceKeyring
from .trust.service_tokens import service_headers

__all__ = ["SESSIONS_PATH", "SessionState", "SessionGuard", "remote_session_lookup", "SESSION_REVOKED_MESSAGE"]

SESSIONS_PATH = "/internal/sessions/"  # users: GET <this><customer id>

SESSION_REVOKED_MESSAGE = "This session was signed out (password changed or signed out everywhere): sign in again"
_CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class SessionState:
    """An account's current session version and the one session a password change kept alive."""

    version: int
    kept: str | None = None

    def admits(self, viewer: Viewer) -> bool:
        if viewer.session_version == self.version:
            return True
        return self.kept is not None and viewer.session_id == self.kept


SessionLookup = Callable[[str], Awaitable[SessionState | None]]
"""customer id -> its state, or None when the account does not exist (its tokens are refused)."""


class SessionGuard:
    """Checks a verified viewer's session against its account, with a short per-process cache."""

    def __init__(self, lookup: SessionLookup, *, cache_seconds: float = 5.0) -> None:
        self._lookup = lookup
        self._ttl = cache_seconds
        self._cache: dict[str, tuple[SessionState | None, float]] = {}
        self._asking: dict[str, asyncio.Future[SessionState | None]] = {}  # lookups in flight

    async def check(self, viewer: Viewer) -> Viewer:
        """The viewer unchanged, or UNAUTHENTICATED when its session was revoked.

        Anonymous viewers have nothing to check."""
        customer_id = viewer.customer_id
        if customer_id is None:
            return viewer
        state = await self._state(customer_id)
        if state is not None and viewer.session_version > state.version:
            # A token newer than our cached answer proves the answer stale (signed in again after a
            # revocation): ask again rather than refuse a session that is valid.
            self.forget(customer_id)
            state = await self._state(customer_id)
        if state is None or not state.admits(viewer):
            raise DomainError(ErrorCode.UNAUTHENTICATED, SESSION_REVOKED_MESSAGE, reason="SESSION_REVOKED")
        return viewer

    def forget(self, customer_id: str) -> None:
        """Drop a cached answer (after this process changed the account's sessions)."""
        self._cache.pop(customer_id, None)
        self._asking.pop(customer_id, None)  # a lookup already under way may predate the change

    async def _state(self, customer_id: str) -> SessionState | None:
        now = time.monotonic()
        hit = self._cache.get(customer_id)
        if hit is not None and now < hit[1]:
            return hit[0]
        asking = self._asking.get(customer_id)
        if asking is not None:  # another request is asking users right now: share its answer (or error)
            return await asyncio.shield(asking)
        asking = self._asking[customer_id] = asyncio.get_running_loop().create_future()
        try:
            state = await self._lookup(customer_id)
        except BaseException as error:
            self._settle(customer_id, asking, error=error)
            raise
        if self._asking.get(customer_id) is asking:  # not forgotten meanwhile: the answer is current
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[customer_id] = (state, now + self._ttl)
        self._settle(customer_id, asking, state=state)
        return state

    def _settle(
        self,
        customer_id: str,
        asking: asyncio.Future[SessionState | None],
        *,
        state: SessionState | None = None,
        error: BaseException | None = None,
    ) -> None:
        if self._asking.get(customer_id) is asking:
            del self._asking[customer_id]
        if asking.done():
            return
        if error is None:
            asking.set_result(state)
        elif isinstance(error, Exception):
            asking.set_exception(error)
            asking.exception()  # retrieved: nobody else may be waiting for it
        else:  # the asking request was cancelled: the others ask again themselves
            asking.cancel()


def remote_session_lookup(users_url: str, keyring: ServiceKeyring, client: HttpClient) -> SessionLookup:
    """Ask the users service, as ``keyring``'s service. Unreachable users -> SERVICE_UNAVAILABLE
    (fail closed, never admit)."""
    base = httpx.URL(users_url.rstrip("/"))

    async def lookup(customer_id: str) -> SessionState | None:
        url = base.copy_with(path=base.path.rstrip("/") + SESSIONS_PATH + customer_id)
        headers = service_headers(keyring, "users", "GET", url.path)
        try:
            response = await client.get(str(url), headers=headers, timeout_s=5.0)
        except httpx.HTTPError:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Cannot check your session right now; try again") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Cannot check your session right now; try again")
        try:
            body = response.json()
            version = int(body["version"])
        except (ValueError, TypeError, KeyError):
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Cannot check your session right now; try again") from None
        kept = body.get("kept")
        return SessionState(version=version, kept=kept if isinstance(kept, str) else None)

    return lookup
