"""The load runs under its CPU policy (bench.common.generating_load): the generator it starts inherits it,
and the bench's own thread is back under its policy afterwards, so a system started later is not."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.common import LOAD_POLICY, generating_load
from setrum_common.cpu_policy import cpu_policy_of

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux's scheduling policies")

ASK_OWN_POLICY = "import os; print(os.sched_getscheduler(0))"


def _policy_of_a_child() -> int:
    done = subprocess.run(
        [sys.executable, "-c", ASK_OWN_POLICY], capture_output=True, text=True, timeout=30, check=True
    )
    return int(done.stdout)


def test_what_the_load_starts_runs_batch_and_the_bench_returns_to_normal() -> None:
    assert LOAD_POLICY == "batch"  # the default (SETRUM_BENCH_LOAD_POLICY=normal turns it off for an A/B)
    assert cpu_policy_of(0) == "normal"
    with generating_load():
        assert cpu_policy_of(0) == "batch"
        assert _policy_of_a_child() == os.SCHED_BATCH
    assert cpu_policy_of(0) == "normal"
    assert _policy_of_a_child() == os.SCHED_OTHER


def test_the_policy_is_restored_when_the_load_fails() -> None:
    with pytest.raises(RuntimeError), generating_load():
        raise RuntimeError("the generator broke")
    assert cpu_policy_of(0) == "normal"
