"""The CPU scheduling policy a process runs under: ``normal``, or ``batch`` (never preempt on waking).

On Linux a thread that wakes up (a socket became readable) may preempt the thread running on its
core at once. Where the router shares cores with the subgraphs (``setrum dev``, the benchmarks, one
host), a storm wakes it thousands of times a second, mostly to refuse, and each wake-up preempted
transactions' event loop, the one thread whose work sells: at ten times capacity that loop was
preempted about 850 times a second instead of about 200, and spent a tenth more CPU per purchase
(its caches cold after each switch). ``SCHED_BATCH`` keeps the process's fair share (same weight,
same nice value) but its wake-ups wait for the next scheduler tick instead of preempting, a few
milliseconds at most, which a refusal held 20 ms on purpose and a purchase of hundreds of
milliseconds do not notice.

Set before the process starts threads or worker processes, so that all of them inherit it.
"""

from __future__ import annotations

import logging
import os
from typing import Literal

__all__ = ["CpuPolicy", "apply_cpu_policy", "cpu_policy_of"]

CpuPolicy = Literal["normal", "batch"]

logger = logging.getLogger("setrum.cpu_policy")


def apply_cpu_policy(policy: CpuPolicy) -> bool:
    """Put the calling thread (and what it starts from now on) under ``policy``; False where the
    platform has no such policy (not Linux) or refuses the change (a back-switch an RLIMIT_NICE or a
    sandbox forbids), which leaves the thread as it was: a scheduling preference is not worth failing for."""
    batch = getattr(os, "SCHED_BATCH", None)
    if batch is None or not hasattr(os, "sched_setscheduler"):
        if policy != "normal":
            logger.warning("CPU policy %r is not available on this platform; running under the default", policy)
        return False
    try:
        os.sched_setscheduler(0, batch if policy == "batch" else os.SCHED_OTHER, os.sched_param(0))
    except OSError as exc:
        logger.warning("CPU policy %r refused (%s); running under the current one", policy, exc)
        return False
    return True


def cpu_policy_of(pid: int) -> CpuPolicy | None:
    """The policy process ``pid``'s main thread runs under (None: another one, or not known here)."""
    if not hasattr(os, "sched_getscheduler"):
        return None
    policy = os.sched_getscheduler(pid)
    if policy == getattr(os, "SCHED_BATCH", None):
        return "batch"
    return "normal" if policy == os.SCHED_OTHER else None
