"""The SQLite contract, on the inline adapter (fast) and on SQLAlchemy's stock aiosqlite dialect."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Connection, Integer, MetaData, select
from sqlalchemy.orm import Mapped, mapped_column

from setrum_common.db import NAMING_CONVENTION, Base, Database


class _Base(Base):
    __abstract__ = True
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Counter(_Base):
    __tablename__ = "test_counter"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


async def test_concurrent_read_modify_write_loses_no_update_on_sqlite(tmp_path: Path, fast: bool) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", fastpath=fast)
    await db.create_all(_Base.metadata)
    async with db.transaction() as session:
        session.add(Counter(id=1, value=0))

    async def increment() -> None:
        async with db.transaction(write=True) as session:
            row = (await session.execute(select(Counter).where(Counter.id == 1))).scalar_one()
            await asyncio.sleep(0)  # let the others interleave
            row.value += 1

    await asyncio.gather(*(increment() for _ in range(40)))
    async with db.session() as session:
        counter = await session.get(Counter, 1)
        assert counter is not None and counter.value == 40
    assert await db.ping()
    await db.dispose()


async def test_sqlite_lock_held_by_another_process_is_waited_out_without_blocking_the_loop(
    tmp_path: Path, fast: bool
) -> None:
    import sqlite3

    path = tmp_path / "locked.db"
    db = Database(f"sqlite+aiosqlite:///{path}", fastpath=fast)
    await db.create_all(_Base.metadata)
    other = sqlite3.connect(path, isolation_level=None)  # stands in for a second process
    other.execute("BEGIN IMMEDIATE")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with db.transaction() as session:
            session.add(Counter(id=7, value=1))

    ticking = asyncio.create_task(ticker())
    writing = asyncio.create_task(write())
    # The loop keeps running other tasks while the write waits: ten ticks come (however slowly a busy machine
    # schedules them) and the write is still waiting. A driver that blocked the loop would tick only after it.
    loop = asyncio.get_running_loop()
    give_up = loop.time() + 3.0
    while ticks < 10 and loop.time() < give_up:
        await asyncio.sleep(0.02)
    assert ticks >= 10
    assert not writing.done()  # still waiting for the other writer
    other.execute("COMMIT")
    await asyncio.wait_for(writing, timeout=5)
    ticking.cancel()
    async with db.session() as session:
        counter = await session.get(Counter, 7)
        assert counter is not None and counter.value == 1
    other.close()
    await db.dispose()


async def test_one_statement_connections_commit_without_begin_on_sqlite(tmp_path: Path, fast: bool) -> None:
    from sqlalchemy import event, insert
    from sqlalchemy.exc import IntegrityError

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'one.db'}", fastpath=fast)
    await db.create_all(_Base.metadata)
    sent: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    async with db.connection(write=True, one_statement=True) as session:
        await session.execute(insert(Counter.__table__), {"id": 1, "value": 5})
    async with db.connection(one_statement=True) as session:
        assert (await session.execute(select(Counter.value).where(Counter.id == 1))).scalar_one() == 5
    assert not [s for s in sent if s.startswith("BEGIN")], sent
    assert len(sent) == 2
    # A failing statement leaves nothing behind: one multi-row INSERT whose second row is a duplicate key.
    with pytest.raises(IntegrityError):
        async with db.connection(write=True, one_statement=True) as session:
            await session.execute(insert(Counter.__table__).values([{"id": 2, "value": 1}, {"id": 1, "value": 9}]))
    async with db.session() as session:
        assert (await session.execute(select(Counter.value).where(Counter.id == 2))).scalar_one_or_none() is None
    await db.dispose()


async def test_run_commits_sync_work_and_rolls_back_when_it_raises(tmp_path: Path, fast: bool) -> None:
    from sqlalchemy import insert, update

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'run.db'}", fastpath=fast)
    await db.create_all(_Base.metadata)
    table = Counter.__table__

    def add(conn: Connection, ident: int, value: int) -> int:
        conn.execute(insert(table), {"id": ident, "value": value})
        return ident

    assert await db.run(add, 1, 10, write=True) == 1

    def bump_then_fail(conn: Connection) -> None:
        conn.execute(update(table).where(table.c.id == 1).values(value=table.c.value + 1))
        conn.execute(insert(table), {"id": 2, "value": 0})
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await db.run(bump_then_fail, write=True)

    def read(conn: Connection) -> list[tuple[int, int]]:
        return [tuple(row) for row in conn.execute(select(table.c.id, table.c.value).order_by(table.c.id))]

    assert await db.run(read, one_statement=True) == [(1, 10)]  # neither statement of the failed work stayed
    # Concurrent writers through run() all land (they queue; none is lost or fails).
    await asyncio.gather(*(db.run(add, i, i, write=True) for i in range(10, 40)))
    assert len(await db.run(read)) == 31
    await db.dispose()


async def test_the_setting_chooses_the_driver(tmp_path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from setrum_common.fastpath.sqlite import inline_dbapi

    inline = type(inline_dbapi().connect(":memory:"))
    monkeypatch.setenv("SETRUM_FASTPATH", "on" if fast else "off")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'which.db'}")  # no argument: the setting decides
    async with db.engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert (type(raw.dbapi_connection) is inline) is fast
        assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one() == "wal"
    await db.dispose()
