"""The box-speed probe (bench/boxspeed.py) times its unit of work in CPU time, at its own pace."""

from __future__ import annotations

import statistics
import time

from bench.boxspeed import SpeedProbe, work_unit


def test_the_probe_samples_every_interval_and_stops_with_its_block() -> None:
    with SpeedProbe(interval_s=0.05) as probe:
        time.sleep(0.6)
    taken = len(probe.samples_ms)
    assert 5 <= taken <= 14
    assert probe.unit_ms is not None and probe.unit_ms > 0
    time.sleep(0.2)
    assert len(probe.samples_ms) == taken  # the thread stopped with the block


def test_twice_the_work_reads_about_twice_the_time() -> None:
    # Adjacent samples, alternating, so that the box's own changes of speed (a factor of two within
    # seconds on shared machines) fall on both sides of each ratio.
    ratios = []
    for _ in range(15):
        started = time.thread_time_ns()
        work_unit(1)
        one = time.thread_time_ns() - started
        started = time.thread_time_ns()
        work_unit(2)
        ratios.append((time.thread_time_ns() - started) / one)
    assert 1.5 < statistics.median(ratios) < 2.7


def test_a_probe_that_took_no_sample_says_so() -> None:
    assert SpeedProbe().unit_ms is None
