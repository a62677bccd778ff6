"""Write-ahead-log checkpoints off the event loop, for a SQLite file a service writes.

SQLite copies its WAL back into the database file (a checkpoint, with an fsync) inside whichever
commit pushes the log past 1,000 pages. On the fast path (:mod:`setrum_common.fastpath.sqlite`) that
commit runs on the event loop, so the whole service stops for the checkpoint's copy and fsync. So the
service's own connections never checkpoint (``wal_autocheckpoint=0``, set where they connect) and this
task does it on a thread, ``PASSIVE`` (it waits for no reader or writer), every
:data:`CHECKPOINT_INTERVAL_S`. A crash loses nothing: the WAL is the durable record until copied.
(Measured once each in a purchase storm: capacity 200-214/s before, 256-269/s after.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import weakref

__all__ = ["CHECKPOINT_INTERVAL_S", "WalCheckpointer"]

CHECKPOINT_INTERVAL_S = 0.5
logger = logging.getLogger("setrum.db")


class WalCheckpointer:
    """``start()`` on the first write of each event loop (idempotent); ``stop()`` when the database closes."""

    def __init__(self, path: str, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self._tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
            weakref.WeakKeyDictionary()
        )

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        task = self._tasks.get(loop)
        if task is None or task.done():
            self._tasks[loop] = loop.create_task(self._run(), name=f"wal-checkpoint {self.path}")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await asyncio.to_thread(self._checkpoint)
            except sqlite3.Error as error:  # the file went away, or another process holds it: try again later
                logger.debug("WAL checkpoint of %s skipped: %s", self.path, error)

    def _checkpoint(self) -> None:
        # A connection of its own each time (one open per interval): a kept one could be closed by stop()
        # while a cancelled task's thread is still checkpointing on it.
        with contextlib.closing(sqlite3.connect(self.path, timeout=0)) as connection:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        current = asyncio.get_running_loop()
        for task in tasks:
            if task.get_loop() is current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
