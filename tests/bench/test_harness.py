"""The benchmark stands on the repository's own files: its CLI starts, the peer workload it points at
exists, and the Node lock file matches package.json (``npm ci`` refuses a lock out of step with it)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from bench.stack import PEERS_DIR, PUBLIC_QUERIES, PUBLIC_SUBGRAPHS, rewrite_urls
from tests.fixtures.subgraph_apps import bench as workload


def test_the_bench_cli_starts() -> None:
    done = subprocess.run([sys.executable, "-m", "bench", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "--quick" in done.stdout and "peers" in done.stdout


def test_the_node_lock_file_matches_package_json() -> None:
    package = json.loads((PEERS_DIR / "package.json").read_text())
    lock = json.loads((PEERS_DIR / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == package["dependencies"]
    for name in package["dependencies"]:
        assert f"node_modules/{name}" in lock["packages"], f"{name} is not locked"


def test_every_file_the_peers_section_runs_is_in_the_repository() -> None:
    for script in ("server.mjs", "apollo.mjs", "compose.mjs"):
        assert (PEERS_DIR / script).is_file(), script
    for name, path in PUBLIC_QUERIES.items():
        assert "query" in json.loads(path.read_text()), name
        request, _ = workload.expected(name)
        assert request == json.loads(path.read_text())  # the tests check the answers to these very bodies


def test_the_checked_in_supergraph_can_be_pointed_at_the_bench_server() -> None:
    base = "http://127.0.0.1:4200"
    sdl = rewrite_urls(
        (PEERS_DIR / "supergraph.graphql").read_text(), {n: f"{base}/{n}/graphql" for n in PUBLIC_SUBGRAPHS}
    )
    urls = re.findall(r'@join__graph\(name: "(\w+)", url: "([^"]+)"\)', sdl)
    assert sorted(urls) == [(n, f"{base}/{n}/graphql") for n in sorted(PUBLIC_SUBGRAPHS)]


def test_the_hive_gateway_variants_are_configured_from_the_locked_packages() -> None:
    from bench.stack import _HIVE_RUST, _hive_config

    lock = json.loads((PEERS_DIR / "package-lock.json").read_text())
    assert _HIVE_RUST.is_relative_to(PEERS_DIR / "node_modules" / "@graphql-hive" / "router-runtime")
    assert "node_modules/@graphql-hive/router-runtime" in lock["packages"]
    rust = _hive_config(rust=True, dedupe=True)
    assert f'from "{_HIVE_RUST.as_uri()}"' in rust and "unifiedGraphHandler" in rust
    assert "deduplicateInflightRequests" not in rust  # Hive Gateway's default (merging on)
    plain_off = _hive_config(rust=False, dedupe=False)
    assert "unifiedGraphHandler" not in plain_off
    assert "deduplicateInflightRequests: false" in plain_off


def test_bench_meters_are_valid_distinct_and_stable() -> None:
    """The meters a bench adds (SETRUM_DEMO_BENCH_METERS) carry valid check digits, collide with no
    demo meter and are the same in every process (master and the biller seed them separately)."""
    from setrum_common.demo_data import METERS, bench_meters
    from setrum_common.identifiers import luhn_valid

    extra = bench_meters(40)
    assert bench_meters(40) == extra and len(extra) == 40
    assert all(luhn_valid(m.number) and m.power_va == 23000 and m.status == "ACTIVE" for m in extra)
    numbers = [m.number for m in (*METERS, *extra)] + [m.idpel for m in (*METERS, *extra)]
    assert len(set(numbers)) == len(numbers)


def test_a_benchmark_summary_is_the_median_of_its_runs_with_its_own_figures_before_the_runs() -> None:
    from bench.common import WrkResult, summary

    runs = [
        WrkResult(100, rps, {"p50": p50, "p99": p50 * 3}, {"timeout": errors})
        for rps, p50, errors in ((10.0, 5.0, 0), (30.0, 1.0, 2), (20.0, 3.0, 1))
    ]
    out = summary(runs, cpu_pct=42.0)
    assert list(out) == ["rps", "p50_ms", "p99_ms", "errors", "rps_runs", "cpu_pct", "runs"]
    assert (out["rps"], out["p50_ms"], out["p99_ms"], out["errors"]) == (20.0, 3.0, 9.0, 3)
    assert out["rps_runs"] == [10.0, 30.0, 20.0] and out["runs"][1]["errors"] == {"timeout": 2}
