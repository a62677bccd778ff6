"""One async engine per process and short-lived sessions, for SQLite and PostgreSQL alike.

SQLite is the embedded default: WAL mode so readers never block the writer, writers queue
(on an asyncio lock in-process, and on a non-blocking busy retry across processes, see
:mod:`setrum_common.fastpath.sqlite`) instead of failing, and ``BEGIN IMMEDIATE`` for transactions that
will write (a deferred transaction that upgrades from read to write can fail with
"database is locked" no matter the timeout). PostgreSQL needs none of this: row locks
(``SELECT … FOR UPDATE``) and unique constraints do the same job there.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.util.concurrency import greenlet_spawn

from .fastpath import fastpath_enabled
from .fastpath.sqlite import engine_options as sqlite_engine_options
from .sqlite_checkpoint import WalCheckpointer

__all__ = ["Base", "Database", "NAMING_CONVENTION", "rowcount"]

# Stable constraint names, so migrations generated on one backend apply on the other.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_T = TypeVar("_T")
_WRITE = "setrum_write"
_ONE_STATEMENT = "setrum_one_statement"
# Set while this task holds a Database's in-process SQLite write lock (so a nested write
# transaction is not made to wait for itself: it meets SQLite's own lock, as before).
_holding_write_lock: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "setrum_sqlite_write_lock", default=frozenset()
)


def _in_transaction(engine: Engine, work: Callable[..., _T], *args: Any) -> _T:
    with engine.begin() as conn:
        return work(conn, *args)


class Base(DeclarativeBase):
    """Declarative base; each service declares its own subclass so metadata stays separate."""

    __abstract__ = True
    # Every mapping here is one plain Table (SQLAlchemy declares the wider FromClause).
    __table__: ClassVar[Table]


def _prepare_sqlite(engine: AsyncEngine, *, checkpoint_elsewhere: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (the driver's implicit BEGIN is always DEFERRED).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Switching a brand-new file to WAL needs an exclusive lock that SQLite does not wait
        # for when several processes open the file at once: retry briefly instead of failing.
        for attempt in range(50):
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
                break
            except Exception as exc:  # the aiosqlite adapter may wrap sqlite3.OperationalError
                if "locked" not in str(exc).lower() or attempt == 49:
                    raise
                time.sleep(0.1)
        for pragma in ("synchronous=NORMAL", "foreign_keys=ON", "temp_store=MEMORY", "cache_size=-16000"):
            cursor.execute(f"PRAGMA {pragma}")
        if checkpoint_elsewhere:  # a WalCheckpointer does it, off the event loop (setrum_common/sqlite_checkpoint.py)
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(_ONE_STATEMENT):
            return  # SQLite runs a lone statement atomically in its own implicit transaction
        # Straight to the driver's cursor (its busy retry included), not through exec_driver_sql:
        # this runs for every transaction, and SQLAlchemy's statement machinery is the costly part.
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")
        finally:
            cursor.close()


class Database:
    """An engine plus a session factory. Create one per process (engines can't cross event loops)."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10, fastpath: bool | None = None) -> None:
        """``fastpath``: SQLite calls on the loop thread (see :mod:`.fastpath.sqlite`) or the stock
        aiosqlite dialect; None reads ``SETRUM_FASTPATH``."""
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        database = self.url.database
        # A SQLite file of ours (not in memory, not a file: URI): its folder is made, its WAL checkpointed.
        sqlite_file = (
            self.is_sqlite and bool(database) and database != ":memory:" and not str(database).startswith("file:")
        )
        if self.is_sqlite:
            if sqlite_file:
                Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
            kwargs.update(sqlite_engine_options(fastpath_enabled() if fastpath is None else fastpath))
            if database not in (None, "", ":memory:"):  # in-memory SQLite keeps its static pool
                kwargs["pool_size"] = pool_size
        else:
            # No pre-ping: it is a round trip per checkout (a fifth of a purchase's CPU here). A connection
            # the server dropped fails the one statement that meets it and is replaced; every write path
            # is safe to retry (idempotent purchases, top-ups, refunds). Recycling bounds connection age.
            # The same ceiling as pool_size + overflow, but every connection is kept: an overflow connection
            # is closed when it is checked in, so a load hovering around pool_size opened a new server
            # process (and handshake) for about one purchase in eleven.
            kwargs.update(pool_size=2 * pool_size, max_overflow=0, pool_recycle=1800)
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        self._checkpointer = WalCheckpointer(str(database)) if sqlite_file else None
        if self.is_sqlite:
            _prepare_sqlite(self.engine, checkpoint_elsewhere=self._checkpointer is not None)
        # A lone statement needs no transaction around it: on SQLite no BEGIN is sent (see _on_begin),
        # on PostgreSQL it runs in autocommit (no BEGIN/COMMIT round trips).
        autocommit = {} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}
        self._engines = {
            (write, one): self.engine.execution_options(
                **{_WRITE: write, _ONE_STATEMENT: one}, **(autocommit if one else {})
            )
            for write in (False, True)
            for one in (False, True)
        }
        self._sync_engines = {key: engine.sync_engine for key, engine in self._engines.items()}
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # reads(): on PostgreSQL in autocommit (each statement its own snapshot, as READ COMMITTED gives it
        # inside a transaction anyway); on SQLite the plain session, whose read transaction is one snapshot.
        self._reads_sessionmaker = (
            self.sessionmaker
            if self.is_sqlite
            else async_sessionmaker(self._engines[(False, True)], expire_on_commit=False)
        )
        self._write_sessionmaker = async_sessionmaker(self._engines[(True, False)], expire_on_commit=False)
        # One lock per event loop (an asyncio.Lock belongs to one loop; tests run several).
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @asynccontextmanager
    async def _sqlite_writer(self) -> AsyncIterator[None]:
        """Queue this process's SQLite writers in order (see the module docstring); re-entrant per task."""
        held = _holding_write_lock.get()
        if not self.is_sqlite or id(self) in held:
            yield
            return
        if self._checkpointer is not None:
            self._checkpointer.start()
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        async with lock:
            token = _holding_write_lock.set(held | {id(self)})
            try:
                yield
            finally:
                _holding_write_lock.reset(token)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session; commit explicitly if you write (prefer :meth:`transaction`)."""
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def reads(self) -> AsyncIterator[AsyncSession]:
        """A session for reads only (never write in it: on PostgreSQL each statement commits alone).

        The same answers as :meth:`session` at PostgreSQL's READ COMMITTED, without the BEGIN and ROLLBACK
        round trips around them (two of three round trips of a one-query resolver); unchanged on SQLite."""
        async with self._reads_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def connection(self, *, write: bool = False, one_statement: bool = False) -> AsyncIterator[AsyncConnection]:
        """A Core connection inside one transaction, committed on success, rolled back on error.

        For async code that runs prebuilt Core statements: it skips the ORM session's bookkeeping.
        ``write`` is as in :meth:`transaction`. ``one_statement``: the caller runs exactly ONE
        statement, atomic by itself, so on SQLite no ``BEGIN``/``COMMIT`` round trips are sent
        around it — not for ``executemany``, whose rows would each commit on their own."""
        engine = self._engines[(write, one_statement)]
        # The connection closes (in a task of its own, SQLAlchemy's shielded cleanup) only after
        # the write lock is released, so the next writer is not kept waiting for that loop turn.
        async with engine.connect() as conn:
            if write:
                async with self._sqlite_writer(), conn.begin():
                    yield conn
            else:
                async with conn.begin():
                    yield conn

    async def run(self, work: Callable[..., _T], *args: Any, write: bool = False, one_statement: bool = False) -> _T:
        """``work(connection, *args)`` — plain synchronous Core code — in one transaction, committed
        unless it raises; ``write`` and ``one_statement`` as in :meth:`connection`.

        The cheapest way to run a hot path: checkout, every statement, commit and check-in happen in
        ONE greenlet (an ``AsyncConnection`` switches greenlets per call and closes in a task)."""
        engine = self._sync_engines[(write, one_statement)]
        if write:
            async with self._sqlite_writer():
                return await greenlet_spawn(_in_transaction, engine, work, *args)
        return await greenlet_spawn(_in_transaction, engine, work, *args)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed on success and rolled back on error.

        ``write=True`` takes SQLite's write lock up front (``BEGIN IMMEDIATE``)."""
        if not write:
            async with self.sessionmaker() as session, session.begin():
                yield session
            return
        # As in connection(): commit under the lock, close after releasing it.
        async with self._write_sessionmaker() as session, self._sqlite_writer(), session.begin():
            yield session

    def count_round_trips(self, statement: Callable[[], None], transaction: Callable[[], None]) -> None:
        """Call ``statement()`` for every statement sent to the database and ``transaction()`` for every
        transaction opened with its own BEGIN (not a lone ``one_statement`` one, which sends none): what a
        request costs the database, for the service's metrics (N+1 reads show up here first)."""
        sync = self.engine.sync_engine  # the option engines of run()/connection() share its events

        def on_statement(*_: Any) -> None:
            statement()

        def on_begin(conn: Any) -> None:
            if not conn.get_execution_options().get(_ONE_STATEMENT):
                transaction()

        event.listen(sync, "before_cursor_execute", on_statement)
        event.listen(sync, "begin", on_begin)

    async def create_all(self, metadata: MetaData) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("SELECT 1")
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            await self._checkpointer.stop()
        await self.engine.dispose()


def rowcount(result: object) -> int:
    """Rows an UPDATE or DELETE matched. ``AsyncSession.execute`` is typed to return a plain
    ``Result``; for those statements it is a ``CursorResult``, which carries the count."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"rowcount() needs the result of an UPDATE or DELETE, not {type(result).__name__}")
    return result.rowcount
