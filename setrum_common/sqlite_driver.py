"""SQLAlchemy's aiosqlite adapter with one thread hop per statement instead of four.

aiosqlite runs every SQLite call on its own thread; SQLAlchemy's adapter makes a separate call (a
queue put, a thread wake-up, a loop wake-up) to open a cursor, execute, fetch the rows and close
the cursor. Each hop costs ~100 µs of CPU, far more than the statement on a local database, and
a token purchase makes dozens of them. Here the cursor's whole life (execute, fetch all rows,
read ``description``/``rowcount``/``lastrowid``, close) is one function run on aiosqlite's thread.
The SQL, transactions, locking and error mapping are SQLAlchemy's and SQLite's, unchanged; only
server-side (streaming) cursors keep the stock path.

Used by :class:`setrum_common.db.Database` through ``create_async_engine(..., module=one_hop_dbapi())``.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

__all__ = ["one_hop_dbapi"]


def _run(conn: sqlite3.Connection, operation: Any, parameters: Any, many: bool) -> tuple[Any, list[Any] | None, int, Any]:
    """On aiosqlite's thread: the statement from cursor open to close."""
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


class _OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ("_description", "_rowcount", "_lastrowid", "_arraysize")

    def __init__(self, adapt_connection: Any) -> None:  # no cursor is opened up front
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
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

    async def _call(self, operation: Any, parameters: Any, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection = self._connection
            result = await connection._execute(_run, connection._conn, operation, parameters, many)
        self._description, rows, self._rowcount, self._lastrowid = result
        self._rows = collections.deque(rows) if rows else collections.deque()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._call(operation, parameters, False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Sequence[Any]) -> Any:
        await self._call(operation, seq_of_parameters, True)

    async def _async_soft_close(self) -> None:
        return None  # the real cursor is already closed

    def close(self) -> None:
        self._rows.clear()


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _OneHopCursor


class _OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        creator_fn = kw.pop("async_creator_fn", None)
        connection = creator_fn(*arg, **kw) if creator_fn else self.aiosqlite.connect(*arg, **kw)
        if not creator_fn:
            connection._thread.daemon = True  # as SQLAlchemy does: never keep the process alive
        return _OneHopConnection(self, await_(connection))


def one_hop_dbapi() -> AsyncAdapt_aiosqlite_dbapi:
    """The DB-API module object for ``create_async_engine("sqlite+aiosqlite://…", module=…)``."""
    return _OneHopDBAPI(aiosqlite, sqlite3)
