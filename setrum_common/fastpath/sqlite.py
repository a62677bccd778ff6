"""SQLite under SQLAlchemy: the fast path makes each SQLite call right on the event loop's thread;
the stock path is SQLAlchemy's aiosqlite dialect as shipped (:func:`engine_options` picks).

aiosqlite runs every SQLite call on a worker thread. For a local database file that is the
expensive part: a statement on our indexed tables takes ~5 µs in SQLite, while the queue put,
the thread wake-up and the loop wake-up around it cost ~100-150 µs of CPU, and a token purchase
makes a dozen statements in each service. So here the adapter calls :mod:`sqlite3` directly.

What that relies on, and how it is kept safe:

* **Nothing waits inside SQLite.** The connection's busy timeout is 0, so a lock held by another
  process (a second replica on the same file, a migration, an operator's shell) raises
  ``SQLITE_BUSY`` at once; the call is then retried with ``await asyncio.sleep`` backoff until
  the busy timeout (30 s) has passed, so the loop keeps serving other requests meanwhile. Inside
  one process, writers already queue on :class:`setrum_common.db.Database`'s asyncio lock.
  ``SQLITE_BUSY_SNAPSHOT`` (a read transaction that tried to write) cannot succeed by waiting and
  is raised at once, as SQLite's own busy handler would.
* **WAL mode with ``synchronous=NORMAL``**: a commit appends to the WAL without ``fsync``; only the
  occasional checkpoint syncs.
* **Short statements.** Every query on a request path is indexed and bounded (pages, one customer,
  one meter). A long report blocks the loop for its duration; that is the trade for SQLite, the
  embedded single-node default — PostgreSQL (asyncpg) is the scale-out database.

The SQL, transactions, ``BEGIN IMMEDIATE`` and error mapping are SQLAlchemy's and SQLite's,
unchanged. The adapter subclasses SQLAlchemy's private ``AsyncAdapt_aiosqlite_*`` classes (hence the
upper bound on SQLAlchemy in ``pyproject.toml``). The stock path waits for a lock inside SQLite's own
busy handler, on aiosqlite's worker thread, for the same :data:`BUSY_TIMEOUT_S`.
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

__all__ = ["BUSY_TIMEOUT_S", "engine_options", "inline_dbapi"]

BUSY_TIMEOUT_S = 30.0
_RETRYABLE = {5, 261}  # SQLITE_BUSY, SQLITE_BUSY_RECOVERY (not 517, SQLITE_BUSY_SNAPSHOT)
_T = TypeVar("_T")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _RETRYABLE


async def _call(fn: Callable[..., _T], *args: Any) -> _T:
    """``fn(*args)`` now; while another process holds SQLite's lock, retry without blocking the loop."""
    try:
        return fn(*args)
    except sqlite3.OperationalError as error:
        if not _is_busy(error):
            raise
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.001
    while True:
        await asyncio.sleep(delay)
        try:
            return fn(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or time.monotonic() >= deadline:
                raise
        delay = min(delay * 2, 0.05)


def _run(
    conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool
) -> tuple[Any, list[Any] | None, int, Any]:
    """A statement from cursor open to close: everything SQLAlchemy will ask of the cursor."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class _Connection:
    """The part of ``aiosqlite.Connection`` that SQLAlchemy's adapter uses, without the thread."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def _connection(self) -> sqlite3.Connection | None:  # the adapter checks it before commit/rollback
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def commit(self) -> None:
        await _call(self._conn.commit)

    async def rollback(self) -> None:
        await _call(self._conn.rollback)

    async def close(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)

    def stop(self) -> None:  # "terminate": nothing to stop but the handle itself
        self._conn.close()


class _InlineCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is opened up front
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        # SQLAlchemy types this slot as always holding an aiosqlite cursor; the inline path has none.
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: Any = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> Any:
        return self._lastrowid

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    async def _execute(self, operation: Any, parameters: Any, many: bool) -> None:
        result = await _call(_run, self._connection._conn, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows) if rows else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._execute(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._execute(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None  # the real cursor is already closed

    def close(self) -> None:
        self._rows.clear()


class _InlineAdaptedConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _InlineCursor
    # Rows are small: "streaming" buffers them like any result. (SQLAlchemy types this slot as its
    # own server-side cursor class; ours stands in for both.)
    _ss_cursor_cls = _InlineCursor  # type: ignore[assignment]

    @property
    def isolation_level(self) -> str | None:
        level: str | None = self._connection._conn.isolation_level
        return level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._connection._conn.isolation_level = value

    def _terminate_force_close(self) -> None:
        self._connection.stop()


class _InlineDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        kw.pop("async_creator_fn", None)
        kw["check_same_thread"] = False  # the pool may close a connection from a GC/finaliser thread
        conn = sqlite3.connect(*arg, **kw)
        conn.execute("PRAGMA busy_timeout=0")  # waiting happens in _call, never inside SQLite
        # _Connection stands in for aiosqlite's connection: only the members the adapter calls.
        return _InlineAdaptedConnection(self, cast(Any, _Connection(conn)))


def inline_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module object for ``create_async_engine("sqlite+aiosqlite://…", module=…)``."""
    return _InlineDBAPI(aiosqlite, sqlite3)


def engine_options(fast: bool) -> dict[str, Any]:
    """``create_async_engine`` keyword arguments for a ``sqlite+aiosqlite://`` URL."""
    if fast:
        return {"module": inline_dbapi()}
    return {"connect_args": {"timeout": BUSY_TIMEOUT_S}}
