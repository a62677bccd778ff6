"""One host, shared cores: the launcher runs the router under the ``batch`` CPU policy and every other
service under the default, so the router's wake-ups (a storm's refusals) never preempt the work that
sells (setrum_common/cpu_policy.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from setrum.launcher import System, SystemPorts
from setrum_common.cpu_policy import cpu_policy_of
from tests.e2e.conftest import SERVICES

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux's scheduling policies")


def test_the_router_runs_batch_and_the_services_as_usual(system: System) -> None:
    assert cpu_policy_of(system.processes["router"].pid) == "batch"
    assert {name: cpu_policy_of(system.processes[name].pid) for name in SERVICES} == dict.fromkeys(SERVICES, "normal")


def test_an_operator_may_run_the_router_under_the_default_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert System(tmp_path, ports=SystemPorts.free()).spec("router").env["ROUTER_CPU_POLICY"] == "batch"
    monkeypatch.setenv("ROUTER_CPU_POLICY", "normal")
    assert System(tmp_path, ports=SystemPorts.free()).spec("router").env["ROUTER_CPU_POLICY"] == "normal"
