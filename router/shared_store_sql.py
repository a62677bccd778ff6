"""The SQL shared store (PostgreSQL for replicas, a SQLite file for the processes of one machine): see
:mod:`router.shared_store`. A module of its own so a router without ``ROUTER_SHARED_STORE__URL`` never loads
SQLAlchemy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError

from router.shared_store import Hit, window_row
from setrum_common.db import Database

__all__ = ["SqlStore"]

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
        row, ends = window_row(key, window_s, now)
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
