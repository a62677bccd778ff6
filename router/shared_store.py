"""State that router replicas share: rate-limit counters and APQ documents.

``ROUTER_SHARED_STORE__URL`` picks the store:

* unset: in this process only (:class:`MemoryStore`). Right for one router process; with several,
  each counts on its own, so a limit of N becomes N per replica.
* ``postgresql+asyncpg://…``: one table pair in a database the replicas share (:mod:`router.shared_store_sql`).
  Setrum already runs PostgreSQL for every service, so rate limits that hold across replicas cost no new piece
  of infrastructure; a counter is one upsert round trip (about a millisecond), paid only by the
  few operations a rule names (sign-in, sign-up, purchases), never by ordinary reads.
* ``sqlite+aiosqlite:///path``: a file shared by the router processes of one machine (the
  development setup, or ``ROUTER_WORKERS`` > 1); SQLite serialises the upserts across processes.

Redis is not supported: it would be one more service to run, secure and monitor for a few
hundred upserts a second that PostgreSQL handles.

Counters are fixed windows: the key names the window (``rule|subject|window number``), each hit is
one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (correct under concurrent replicas on both
engines), and a window allows at most ``limit`` hits (a client may use ``limit`` at the end of one
window and ``limit`` at the start of the next). Rows of past windows and expired documents are
deleted in bounded batches by later calls, at most once a minute per process.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Hit", "MemoryStore", "SharedStore", "open_store", "window_row"]

_MAX_KEY = 255


@dataclass(frozen=True, slots=True)
class Hit:
    """One counted hit: how many the window holds now (this one included), and when it ends."""

    hits: int
    window_ends_at: float


class SharedStore(Protocol):
    async def hit(self, key: str, window_s: int) -> Hit: ...

    async def get_document(self, digest: str) -> str | None: ...

    async def put_document(self, digest: str, document: str, ttl_s: int) -> None: ...

    async def aclose(self) -> None: ...


def window_row(key: str, window_s: int, now: float) -> tuple[str, int]:
    """The window's row key (hashed when the subject makes it long) and its end (epoch seconds)."""
    number = int(now // window_s)
    row = f"{key}|{window_s}|{number}"
    if len(row) > _MAX_KEY:
        row = hashlib.sha256(row.encode()).hexdigest()
    return row, (number + 1) * window_s


class MemoryStore:
    """This process only (no replicas); counters and documents bounded in number."""

    def __init__(
        self, *, max_counters: int = 100_000, max_documents: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._counters: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._documents: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._max_counters = max_counters
        self._max_documents = max_documents
        self._clock = clock

    async def hit(self, key: str, window_s: int) -> Hit:
        now = self._clock()
        row, ends = window_row(key, window_s, now)
        hits = self._counters.get(row, (0, ends))[0] + 1
        self._counters[row] = (hits, ends)
        self._counters.move_to_end(row)
        while len(self._counters) > self._max_counters:
            self._counters.popitem(last=False)
        return Hit(hits, ends)

    async def get_document(self, digest: str) -> str | None:
        found = self._documents.get(digest)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    async def put_document(self, digest: str, document: str, ttl_s: int) -> None:
        self._documents[digest] = (document, self._clock() + ttl_s)
        self._documents.move_to_end(digest)
        while len(self._documents) > self._max_documents:
            self._documents.popitem(last=False)

    async def aclose(self) -> None:
        return None


def open_store(url: str | None) -> SharedStore:
    if not url:
        return MemoryStore()
    # SQLAlchemy is imported only when a store is configured: it is a third of an idle router's memory.
    from router.shared_store_sql import SqlStore

    return SqlStore(url)
