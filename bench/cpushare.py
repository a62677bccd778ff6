"""Who had the CPU during a run: each process's time on a core, and its time runnable but waiting for one.

A storm that sells less than the closed loop could be starved of work (queues empty) or of CPU (queues
full, processes waiting for a core). The kernel keeps both per thread in ``/proc/<pid>/task/<tid>/schedstat``
(nanoseconds on a CPU, nanoseconds on a run queue), and ``/proc/stat`` has the box's busy time. Read before
and after a run, they say which: on two shared cores every service of a storm was runnable-but-waiting a
quarter to a third of the time, and transactions' event loop was runnable nearly all of it.

Linux only; elsewhere (or for a process that has gone) the figures are left out.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .common import CLK_TCK, _system_busy_ticks, cpu_count, tree

__all__ = ["CpuShare", "Share"]

_PROC = Path("/proc")


@dataclass(frozen=True)
class Share:
    """One process (its threads and its child processes' threads) over a run, as shares of one core."""

    on_cpu: float
    waiting: float


def _schedstat(pid: int) -> tuple[int, int] | None:
    """(ns on a CPU, ns runnable and waiting) summed over the threads of ``pid`` and of its descendants (a
    service running several workers is a parent whose workers do the work)."""
    on_cpu = waiting = 0
    tasks: list[Path] = []
    for member in tree(pid):
        try:
            tasks += (_PROC / str(member) / "task").iterdir()
        except OSError:
            if member == pid:
                return None
            # a child that ended since the listing (a PostgreSQL backend, a worker restarted): the rest still counts
    for task in tasks:
        try:
            ran, waited, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # a thread that ended between the listing and the read
        on_cpu += int(ran)
        waiting += int(waited)
    return on_cpu, waiting


def _box_busy_ticks() -> int | None:
    try:
        return _system_busy_ticks()
    except (OSError, ValueError):
        return None


class CpuShare:
    """``with CpuShare({"router": pid, ...}) as cpu: run()``; then ``cpu.shares`` and ``cpu.text()``."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self._pids = dict(pids)
        self.shares: dict[str, Share] = {}
        self.box_busy: float | None = None

    def __enter__(self) -> CpuShare:
        self._before = {name: _schedstat(pid) for name, pid in self._pids.items()}
        self._box_before = _box_busy_ticks()
        self._started = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        elapsed_ns = (time.monotonic() - self._started) * 1e9
        for name, pid in self._pids.items():
            before, after = self._before.get(name), _schedstat(pid)
            if before is None or after is None or elapsed_ns <= 0:
                continue
            self.shares[name] = Share((after[0] - before[0]) / elapsed_ns, (after[1] - before[1]) / elapsed_ns)
        box_after = _box_busy_ticks()
        if self._box_before is not None and box_after is not None and elapsed_ns > 0:
            self.box_busy = (box_after - self._box_before) / (elapsed_ns / 1e9 * CLK_TCK * cpu_count())

    def text(self) -> str:
        """``box busy 90 %; router 33/31 %, transactions 71/29 %, ...`` (on a core / waiting for one)."""
        head = "box busy -" if self.box_busy is None else f"box busy {self.box_busy * 100:.0f} %"
        if not self.shares:
            return head
        parts = [f"{name} {s.on_cpu * 100:.0f}/{s.waiting * 100:.0f} %" for name, s in self.shares.items()]
        return f"{head} of {cpu_count()} cores; " + ", ".join(parts)
