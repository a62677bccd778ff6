"""``python -m router``: serve for real, clear messages for bad configuration, delegated commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from router.__main__ import main
from setrum.launcher import free_port
from tests.router.http.fixtures import SUPERGRAPH_V1

REPO = Path(__file__).resolve().parents[3]


def test_serve_refuses_a_missing_supergraph(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--supergraph", str(tmp_path / "nope.graphql")]) == 2
    assert "supergraph file not found" in capsys.readouterr().err


def test_serve_refuses_invalid_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "70000"]) == 2
    assert "invalid configuration" in capsys.readouterr().err


def test_delegated_commands_receive_their_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    seen: list[list[str]] = []
    fake = types.ModuleType("router.composition.compose_cli")

    def compose_command(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    fake.__dict__["compose_command"] = compose_command
    monkeypatch.setitem(sys.modules, "router.composition.compose_cli", fake)
    assert main(["compose", "--out", "x.graphql", "a.graphql"]) == 0
    assert seen == [["--out", "x.graphql", "a.graphql"]]


@contextmanager
def _serving(tmp_path: Path, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``python -m router serve`` on a free port with ``env`` added, until its /health answers."""
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH_V1)
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_") and k != "SETRUM_ENV"}
    process = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--port", str(port), "--supergraph", str(supergraph)],
        cwd=REPO,
        env={**base, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"router exited: {process.stdout.read().decode() if process.stdout else ''}")
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield process, url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_starts_a_real_server(tmp_path: Path) -> None:
    with _serving(tmp_path) as (_, url):
        response = httpx.post(f"{url}/graphql", json={"query": "{ __schema { queryType { name } } }"})
        assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def _threads_of_tree(pid: int) -> dict[int, list[int]]:
    """Each process of ``pid``'s tree (itself and its descendants) with its threads."""
    out: dict[int, list[int]] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        tasks = [int(t) for t in os.listdir(f"/proc/{p}/task")]
        out[p] = tasks
        for t in tasks:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{t}/children").read_text().split()]
    return out


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux's scheduling policies")
def test_serve_runs_every_thread_of_every_worker_under_the_cpu_policy_asked(tmp_path: Path) -> None:
    with _serving(tmp_path, ROUTER_CPU_POLICY="batch", ROUTER_WORKERS="2") as (process, url):
        deadline = time.monotonic() + 60
        while len(tree := _threads_of_tree(process.pid)) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)  # the second worker starts once the first serves
        assert len(tree) >= 3, tree  # the parent and its two workers (and multiprocessing's helper)
        assert {os.sched_getscheduler(t) for threads in tree.values() for t in threads} == {os.SCHED_BATCH}
        assert httpx.post(f"{url}/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
    with _serving(tmp_path) as (process, _):  # not asked: the system's default
        assert os.sched_getscheduler(process.pid) == os.SCHED_OTHER


def test_serve_refuses_an_unknown_cpu_policy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTER_CPU_POLICY", "realtime")
    assert main(["serve"]) == 2
    assert "cpu_policy" in capsys.readouterr().err
