"""Hot reload: swap in a new gateway when the supergraph file changes, without a restart.

:class:`GatewayPool` hands out the current gateway per request (``async with pool.lease()``);
:meth:`GatewayPool.swap` makes a new one current and retires the old one, which is closed once
its last in-flight request finishes. :class:`SupergraphWatcher` polls the file (mtime and size,
then a content hash so a touch is not a reload), builds the new gateway off the event loop, and
keeps the old one when the new file is broken (logged, and not retried until the file changes).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

from setrum_common import heap

__all__ = ["BuildGateway", "GatewayLike", "GatewayPool", "SupergraphWatcher"]

logger = logging.getLogger("router.reload")


class GatewayLike(Protocol):
    """The slice of ``router.gateway.Gateway`` the HTTP edge uses."""

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        subgraph_headers: Mapping[str, str] | None = None,
        allow_mutations: bool = True,
        include_plan: bool = False,
        claims: Mapping[str, Any] | None = None,
    ) -> Any: ...

    async def aclose(self) -> None: ...


class _Entry:
    __slots__ = ("closed", "gateway", "in_flight", "owned", "retired")

    def __init__(self, gateway: GatewayLike, owned: bool) -> None:
        self.gateway = gateway
        self.owned = owned
        self.in_flight = 0
        self.retired = False
        self.closed = False

    async def close(self) -> None:
        if self.closed or not self.owned:
            return
        self.closed = True
        try:
            await self.gateway.aclose()
        except Exception:
            logger.exception("error while closing a retired gateway")


class GatewayPool:
    """The current gateway plus the retired ones still serving requests."""

    def __init__(self, gateway: GatewayLike, *, owned: bool = True) -> None:
        """``owned=False`` for a gateway someone else created: the pool never closes it."""
        self._current = _Entry(gateway, owned)
        self.generation = 1

    @property
    def current(self) -> GatewayLike:
        return self._current.gateway

    @asynccontextmanager
    async def lease(self) -> AsyncIterator[GatewayLike]:
        entry = self._current
        entry.in_flight += 1
        try:
            yield entry.gateway
        finally:
            entry.in_flight -= 1
            if entry.retired and entry.in_flight == 0:
                # Shielded: a client disconnect cancelling this request must not leave the
                # retired gateway half-closed.
                await asyncio.shield(entry.close())

    async def swap(self, gateway: GatewayLike) -> None:
        old = self._current
        self._current = _Entry(gateway, True)
        self.generation += 1
        old.retired = True
        if old.in_flight == 0:
            await old.close()

    async def aclose(self) -> None:
        self._current.retired = True
        if self._current.in_flight == 0:
            await self._current.close()


BuildGateway = Callable[[str], GatewayLike]


class SupergraphWatcher:
    """Poll ``path`` and swap the pool's gateway when the file's content changes."""

    def __init__(self, path: Path, pool: GatewayPool, build: BuildGateway, *, interval_s: float) -> None:
        self.path = path
        self.pool = pool
        self.build = build
        self.interval_s = interval_s
        self._stat = self._stat_key()
        self._digest = self._hash()

    def _stat_key(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _hash(self, text: str | None = None) -> str | None:
        if text is None:
            try:
                text = self.path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
        return hashlib.sha256(text.encode()).hexdigest()

    async def check_once(self) -> bool:
        """Reload if the file changed; True when a new gateway was swapped in."""
        stat = self._stat_key()
        if stat is None or stat == self._stat:
            return False
        self._stat = stat
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            logger.error("supergraph %s unreadable, keeping the current one: %s", self.path, exc)
            return False
        digest = self._hash(text)
        if digest == self._digest:
            return False
        self._digest = digest  # a broken file is not retried until it changes again
        try:
            gateway = await asyncio.to_thread(self.build, text)
        except Exception as exc:
            logger.error("supergraph %s rejected, keeping the current one: %s", self.path, exc)
            return False
        await self.pool.swap(gateway)
        heap.thaw()  # the retired gateway was frozen with the start-up heap: let it be collected
        logger.info("supergraph %s reloaded (generation %d)", self.path, self.pool.generation)
        return True

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.check_once()
            except Exception:
                logger.exception("supergraph watcher failed; will retry")
