"""Revocable customer sessions: a token is good only while its account's session version matches.

Every customer token carries ``sid`` (this session) and ``sv`` (the account's session version when
it was issued). "Sign out everywhere" raises the version, so every earlier token fails. A password
change raises it too but keeps the session that made the change (``kept``), so the customer who
changed it stays signed in while every other holder of an old token is signed out.

The users subgraph owns the versions (its database); the other services ask it over HTTP
(``GET /internal/sessions/{customer_id}``, signed with the asking service's own key). Answers are cached for a few
seconds per process (``SETRUM_SESSION_CACHE_S``), so a revocation reaches other replicas and
services within that time; the replica that revokes forgets its cached answer at once.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from .auth import Viewer
from .errors import DomainError, ErrorCode
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

    async def _state(self, customer_id: str) -> SessionState | None:
        now = time.monotonic()
        hit = self._cache.get(customer_id)
        if hit is not None and now < hit[1]:
            return hit[0]
        state = await self._lookup(customer_id)
        if len(self._cache) >= _CACHE_MAX:
            self._cache.clear()
        self._cache[customer_id] = (state, now + self._ttl)
        return state


def remote_session_lookup(users_url: str, keyring: ServiceKeyring, client: httpx.AsyncClient) -> SessionLookup:
    """Ask the users service, as ``keyring``'s service. Unreachable users -> SERVICE_UNAVAILABLE
    (fail closed, never admit)."""
    base = httpx.URL(users_url.rstrip("/"))

    async def lookup(customer_id: str) -> SessionState | None:
        url = base.copy_with(path=base.path.rstrip("/") + SESSIONS_PATH + customer_id)
        headers = service_headers(keyring, "users", "GET", url.path)
        try:
            response = await client.get(url, headers=headers, timeout=5.0)
        except httpx.HTTPError:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Cannot check your session right now; try again") from None
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Cannot check your session right now; try again")
        body = response.json()
        kept = body.get("kept")
        return SessionState(version=int(body["version"]), kept=kept if isinstance(kept, str) else None)

    return lookup
