"""SQLite's WAL is copied back into the database file by a background thread, never inside a commit
on the event loop (setrum_common/sqlite_checkpoint.py): a checkpoint's copy and fsync inside a commit
stopped the whole service every few seconds of a purchase storm."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Connection, text

from setrum_common.db import Database


def _write(conn: Connection, i: int) -> None:
    conn.execute(text("INSERT INTO rows (id, payload) VALUES (:i, :p)"), {"i": i, "p": "x" * 2000})


def _autocheckpoint(conn: Connection) -> int:
    return int(conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one())


async def test_commits_never_checkpoint_and_a_background_thread_does(tmp_path: Path) -> None:
    path = tmp_path / "service.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.run(
            lambda conn: conn.execute(text("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT)")), write=True
        )
        assert await db.run(_autocheckpoint) == 0  # the service's own connections leave it to the thread
        for i in range(2000):  # about 1,200 pages: past SQLite's own 1,000-page checkpoint mark
            await db.run(_write, i, write=True)
        await asyncio.sleep(1.2)  # two checkpoint intervals
        # The rows reached the database file itself (with no checkpoint they would be in the WAL only).
        assert path.stat().st_size > 2000 * 2000, path.stat().st_size
        assert await db.run(lambda conn: conn.execute(text("SELECT count(*) FROM rows")).scalar_one()) == 2000
    finally:
        await db.dispose()
