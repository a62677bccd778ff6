"""``python -m router``: serve for real, clear messages for bad configuration, delegated commands."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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


def test_serve_starts_a_real_server(tmp_path: Path) -> None:
    supergraph = tmp_path / "supergraph.graphql"
    supergraph.write_text(SUPERGRAPH_V1)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUTER_") and k != "SETRUM_ENV"}
    process = subprocess.Popen(
        [sys.executable, "-m", "router", "serve", "--port", str(port), "--supergraph", str(supergraph)],
        cwd=REPO,
        env=env,
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
        response = httpx.post(f"{url}/graphql", json={"query": "{ __schema { queryType { name } } }"})
        assert response.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    finally:
        process.terminate()
        process.wait(timeout=10)
