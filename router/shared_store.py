"""State that router replicas share: rate-limit counters and APQ documents.

``ROUTER_SHARED_STORE__URL`` picks the store:

* unset: in this process only (:class:`MemoryStore`). Right for one router process; with several,
  each counts on its own, so a limit of N becomes N per replica.
* ``postgresql+asyncpg://…``: one table pair in a database the replicas share. Setrum already
  runs PostgreSQL for every service, so rate limits that hold across replicas cost no new piece
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

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from setrum_common.db import Database

__all__ = ["Hit", "MemoryStore", "SharedStore", "SqlStore", "open_store"]

_metadata = MetaData()
_counters = Table(
    "router_rate_counter",
    _metadata,
    Column("key", String(255), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)
_documents = Table(
    "router_apq_document",
    _metadata,
    Column("hash", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)
_HOUSEKEEPING_EVERY_S = 60.0
_HOUSEKEEPING_BATCH = 500
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


def _window(key: str, window_s: int, now: float) -> tuple[str, int]:
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
        row, ends = _window(key, window_s, now)
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


class SqlStore:
    """PostgreSQL (replicas) or a SQLite file (processes of one machine); see the module docstring."""

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time) -> None:
        self._db = Database(url, pool_size=5)
        self._insert: Any = postgresql.insert if not self._db.is_sqlite else sqlite.insert
        self._clock = clock
        self._ready = False
        self._ready_lock = asyncio.Lock()
        self._last_housekeeping = 0.0

    async def _ensure_tables(self) -> None:
        if self._ready:
            return
        async with self._ready_lock:
            if self._ready:
                return
            for attempt in range(3):  # replicas starting together may race to create the tables
                try:
                    await self._db.create_all(_metadata)
                    break
                except (IntegrityError, ProgrammingError, DBAPIError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2)
            self._ready = True

    async def hit(self, key: str, window_s: int) -> Hit:
        await self._ensure_tables()
        now = self._clock()
        row, ends = _window(key, window_s, now)
        statement = (
            self._insert(_counters)
            .values(key=row, hits=1, expires_at=ends)
            .on_conflict_do_update(index_elements=[_counters.c.key], set_={"hits": _counters.c.hits + 1})
            .returning(_counters.c.hits)
        )
        hits = await self._db.run(_scalar, statement, write=True, one_statement=True)
        await self._housekeeping(now)
        return Hit(int(hits), ends)

    async def get_document(self, digest: str) -> str | None:
        await self._ensure_tables()
        query = select(_documents.c.document).where(
            _documents.c.hash == digest, _documents.c.expires_at > int(self._clock())
        )
        found = await self._db.run(_scalar, query, one_statement=True)
        return found if isinstance(found, str) else None

    async def put_document(self, digest: str, document: str, ttl_s: int) -> None:
        await self._ensure_tables()
        now = self._clock()
        expires = int(now) + ttl_s
        statement = (
            self._insert(_documents)
            .values(hash=digest, document=document, expires_at=expires)
            .on_conflict_do_update(
                index_elements=[_documents.c.hash], set_={"document": document, "expires_at": expires}
            )
        )
        await self._db.run(_execute, statement, write=True, one_statement=True)
        await self._housekeeping(now)

    async def _housekeeping(self, now: float) -> None:
        """Delete a bounded batch of dead rows, at most once a minute per process."""
        if now - self._last_housekeeping < _HOUSEKEEPING_EVERY_S:
            return
        self._last_housekeeping = now
        for table, key in ((_counters, _counters.c.key), (_documents, _documents.c.hash)):
            stale = select(key).where(table.c.expires_at <= int(now)).limit(_HOUSEKEEPING_BATCH)
            statement = delete(table).where(key.in_(stale.scalar_subquery()))
            await self._db.run(_execute, statement, write=True, one_statement=True)

    async def aclose(self) -> None:
        await self._db.dispose()


def _scalar(conn: Connection, statement: Any) -> Any:
    return conn.execute(statement).scalar()


def _execute(conn: Connection, statement: Any) -> None:
    conn.execute(statement)


def open_store(url: str | None) -> SharedStore:
    return SqlStore(url) if url else MemoryStore()
