"""bench/cpushare.py: a process's time on a core and its time waiting for one, read from the kernel."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from bench import cpushare
from bench.cpushare import CpuShare

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads Linux's /proc")

SPIN = "import time\nend = time.monotonic() + 30\nwhile time.monotonic() < end: pass"
SLEEP = "import time; time.sleep(30)"
PARENT_OF_A_SPINNER = (
    f"import subprocess, sys, time\nchild = subprocess.Popen([sys.executable, '-c', {SPIN!r}])\ntime.sleep(30)"
)


@contextmanager
def _python(code: str, cpu: int | None = None) -> Iterator[int]:
    argv = [sys.executable, "-c", code]
    if cpu is not None:
        argv = ["taskset", "-c", str(cpu), *argv]
    proc = subprocess.Popen(argv, start_new_session=True)
    try:
        time.sleep(0.3)  # started and spinning (or asleep)
        yield proc.pid
    finally:
        os.killpg(proc.pid, 9)
        proc.wait()


def test_a_spinning_process_is_on_a_core_and_a_sleeping_one_is_not() -> None:
    with _python(SPIN) as spinner, _python(SLEEP) as sleeper, CpuShare({"spin": spinner, "sleep": sleeper}) as cpu:
        time.sleep(1.0)
    assert cpu.shares["spin"].on_cpu > 0.5
    assert cpu.shares["sleep"].on_cpu < 0.05
    assert cpu.shares["sleep"].waiting < 0.05
    assert cpu.box_busy is not None and cpu.box_busy > 0.2  # one of at most a few cores spun
    assert cpu.text().startswith("box busy ") and " spin " in cpu.text()


@pytest.mark.skipif(subprocess.run(["which", "taskset"], capture_output=True).returncode != 0, reason="no taskset")
def test_two_spinners_on_one_core_each_wait_for_it_about_half_the_time() -> None:
    with _python(SPIN, cpu=0) as a, _python(SPIN, cpu=0) as b, CpuShare({"a": a, "b": b}) as cpu:
        time.sleep(1.0)
    for share in cpu.shares.values():
        assert 0.2 < share.on_cpu < 0.8
        assert 0.2 < share.waiting < 0.8
    # one core between them (a little less when the host takes the virtual CPU away, which neither counts)
    assert 0.6 < sum(s.on_cpu for s in cpu.shares.values()) < 1.1


def test_a_parent_counts_the_work_of_its_children() -> None:
    # as a service with several workers does: the parent waits, the workers run
    with _python(PARENT_OF_A_SPINNER) as parent, CpuShare({"service": parent}) as cpu:
        time.sleep(1.0)
    assert cpu.shares["service"].on_cpu > 0.5


def test_a_process_gone_before_the_end_is_left_out() -> None:
    with _python(SLEEP) as pid:
        cpu = CpuShare({"gone": pid}).__enter__()
    cpu.__exit__(None, None, None)
    assert "gone" not in cpu.shares


def test_a_child_that_ends_between_the_listing_and_the_reading_leaves_the_rest_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as a PostgreSQL backend does when its session ends: the server's other processes still count
    gone = 4_194_305  # above Linux's largest pid: never a process
    monkeypatch.setattr(cpushare, "tree", lambda pid: [pid, gone])
    with _python(SPIN) as pid, CpuShare({"service": pid}) as cpu:
        time.sleep(0.5)
    assert cpu.shares["service"].on_cpu > 0.5
