"""How fast this box's CPU runs right now: the CPU time a fixed piece of Python work takes.

A storm is judged against the capacity measured around it, which assumes the box runs at one speed
for those minutes. On the shared machines this bench runs on it does not: the same loop took 7.8 to
19 ms of CPU from one quarter second to the next while our own processes were idle (other tenants
share the physical cores), and the same build's closed-loop capacity read 158 and 270 purchases/s
two minutes apart. The probe says when a figure met a slower or faster machine: every half second
a thread times one fixed unit of work in its own CPU time (``thread_time``, so waiting for a core
does not count, only how much a core did per second), about a fifth of a percent of one core.

It runs on the same cores as the load it watches, so it also feels that load's own interference (caches
and the physical core's other hyperthread taken by the system's processes): in a storm it read 0.72-1.17
of the speed of the closed loops around it, 0.90 on average. A slowdown it reports during a storm is
therefore partly the box's other tenants and partly the storm's own cost, and a share "at equal speed"
is an upper bound of what the box's noise explains, never a figure to judge the storm by.
"""

from __future__ import annotations

import statistics
import threading
import time

__all__ = ["SpeedProbe", "work_unit"]

_UNIT_STEPS = 20_000  # about 1-2 ms of CPU on the machines this bench runs on
INTERVAL_S = 0.5


def work_unit(scale: int = 1) -> int:
    """A fixed piece of pure-Python work (``scale`` times it): integer arithmetic, no memory to speak of."""
    total = 0
    for i in range(_UNIT_STEPS * scale):
        total += i * i % 7
    return total


class SpeedProbe:
    """``with SpeedProbe() as probe: run()``; then ``probe.unit_ms``, the median CPU ms one unit took.

    Lower is a faster box; ``a.unit_ms / b.unit_ms`` is how fast the box ran during ``b`` relative to ``a``."""

    def __init__(self, interval_s: float = INTERVAL_S, scale: int = 1) -> None:
        self.interval_s, self.scale = interval_s, scale
        self.samples_ms: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speed-probe", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.thread_time_ns()
            work_unit(self.scale)
            self.samples_ms.append((time.thread_time_ns() - started) / 1e6)
            self._stop.wait(self.interval_s)

    def __enter__(self) -> SpeedProbe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def unit_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None
