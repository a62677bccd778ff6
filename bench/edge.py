"""Section edge — the router's public edge under a parser attack (issue 12, item 1).

The attack: ``{ me { id id id ... } }`` with ``id`` repeated 400,000 times (1.2 MB, under the
2 MB body limit, no token). Measured against our router process (alone on the gateway CPU) over
a stub subgraph that answers every fetch from memory, so the figures are router time only:

* the time to refuse that document (client-observed, sequential requests), target < 50 ms;
* p50/p99 of an ordinary query (wrk, closed loop) alone, then while a flood of the attack
  document runs from other connections at the same time; the ratio must stay <= 2x.

Run alone with ``python -m bench --only edge`` (no real system needed; a minute or so).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from .common import (
    BENCH_DIR,
    PYTHON,
    WORK,
    Load,
    Proc,
    Report,
    free_port,
    median,
    quiesce,
    table,
    wait_http,
)
from .stack import Stack, rewrite_urls, write_query

__all__ = ["ATTACK_QUERY", "run"]

ATTACK_QUERY = "{ me { " + "id " * 400_000 + "} }"
ORDINARY_QUERY = "query Tariffs { tariffs { code description } }"
REFUSAL_TARGET_MS = 50.0
RATIO_TARGET = 2.0
REFUSALS = 20
ORDINARY_CONNS = 10
FLOOD_CONNS = 4
_STUB_BODY = b'{"data":{"tariffs":[{"code":"R1","description":"Rumah tangga 900 VA"}]}}'


async def _stub_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The stub subgraph: drains the request, answers every POST with one fixed body."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": _STUB_BODY})


def _serve_stub(port: int) -> None:
    import uvicorn

    uvicorn.run(_stub_app, host="127.0.0.1", port=port, log_level="warning", http="httptools")


def _refusal_times(url: str) -> tuple[list[float], list[str]]:
    body = json.dumps({"query": ATTACK_QUERY}).encode()
    headers = {"content-type": "application/json", "accept": "application/graphql-response+json"}
    times, codes = [], []
    with httpx.Client(timeout=120) as client:
        for _ in range(REFUSALS + 2):
            t0 = time.perf_counter()
            response = client.post(url, content=body, headers=headers)
            times.append((time.perf_counter() - t0) * 1000)
            codes += [e.get("extensions", {}).get("code", "?") for e in response.json().get("errors", [])]
    return times[2:], codes  # the first two warm the connection and the code paths


def stub_supergraph(stack: Stack, load: Load, name: str) -> tuple[Proc, Path]:
    """Start the stub subgraph (``<name>-stub``, on the load CPUs) and write the supergraph whose three
    subgraphs all point at it (``supergraph-<name>.graphql``): the edge and edgecost sections' upstream."""
    port = free_port()
    stub = stack.start(
        Proc(f"{name}-stub", [PYTHON, "-m", "bench.edge", "--serve-stub", str(port)], cpus=load.load_cpus)
    )
    wait_http(f"http://127.0.0.1:{port}/", stub)
    url = f"http://127.0.0.1:{port}/graphql"
    supergraph = WORK / f"supergraph-{name}.graphql"
    supergraph.write_text(
        rewrite_urls(stack.supergraph().read_text(), dict.fromkeys(("users", "master", "transactions"), url))
    )
    return stub, supergraph


def run(stack: Stack, load: Load, report: Report) -> None:
    stub, supergraph = stub_supergraph(stack, load, "edge")
    router, url = stack.router("router-edge", supergraph, cpus=load.gateway_cpus)

    times, codes = _refusal_times(url)
    refusal_p50, refusal_max = statistics.median(times), max(times)
    print(
        f"  refusing the 1.2 MB attack document: median {refusal_p50:.1f} ms, max {refusal_max:.1f} ms "
        f"over {len(times)} requests; codes {sorted(set(codes))}"
    )

    script = BENCH_DIR / "lua" / "post.lua"
    ordinary = {"BODY_FILE": str(write_query("edge-ordinary", ORDINARY_QUERY)), "CHECK": "1"}
    attack = {"BODY_FILE": str(write_query("edge-attack", ATTACK_QUERY))}
    duration = max(5, load.duration_s // 2)
    samples: dict[str, list[dict[str, Any]]] = {"alone": [], "flood": []}
    flood_rps: list[float] = []
    _wrk(_wrk_argv(url, script, ORDINARY_CONNS, 2, load), ordinary)  # warm-up
    for rnd in range(load.rounds):
        for which in ["alone", "flood"] if rnd % 2 == 0 else ["flood", "alone"]:
            quiesce([router.pid, stub.pid], max_wait_s=30)
            flood = None
            if which == "flood":
                flood = subprocess.Popen(
                    _wrk_argv(url, script, FLOOD_CONNS, duration + 2, load),
                    env={**os.environ, **attack},
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    text=True,
                )
                time.sleep(1.0)  # let the flood reach its pace first
            try:
                samples[which].append(_wrk(_wrk_argv(url, script, ORDINARY_CONNS, duration, load), ordinary))
            finally:
                if flood is not None:
                    out, _ = flood.communicate(timeout=120)
                    flood_rps.append(_parse_result(out)["rps"])
    med = {
        k: {m: median([r["lat_ms"][m] for r in v]) for m in ("p50", "p99")}
        | {"rps": median([r["rps"] for r in v]), "errors": sum(_errors(r) for r in v)}
        for k, v in samples.items()
    }
    ratio50 = med["flood"]["p50"] / med["alone"]["p50"]
    ratio99 = med["flood"]["p99"] / med["alone"]["p99"]
    print(
        table(
            [[k, f"{v['p50']:.2f}", f"{v['p99']:.2f}", f"{v['rps']:.0f}", v["errors"]] for k, v in med.items()],
            ["ordinary query", "p50 ms", "p99 ms", "req/s", "errors"],
        )
    )
    print(f"  flood: {FLOOD_CONNS} connections sending the attack document, {median(flood_rps):.0f} refusals/s")
    print(
        f"  latency with the flood / without: p50 {ratio50:.2f}x, p99 {ratio99:.2f}x (target <= {RATIO_TARGET}x); "
        f"refusal median {refusal_p50:.1f} ms (target < {REFUSAL_TARGET_MS:.0f} ms)"
    )
    report.section(
        "edge",
        {
            "refusal_ms": times,
            "refusal_codes": sorted(set(codes)),
            "ordinary": med,
            "flood_refusals_per_s": flood_rps,
            "ratio_p50": ratio50,
            "ratio_p99": ratio99,
            "runs": samples,
        },
    )
    if refusal_p50 >= REFUSAL_TARGET_MS:
        report.fail(f"edge: refusing the attack document took {refusal_p50:.1f} ms (median)")
    if set(codes) != {"MAX_TOKENS_EXCEEDED"}:
        report.fail(f"edge: the attack document was answered with {sorted(set(codes))}")
    if ratio50 > RATIO_TARGET or ratio99 > RATIO_TARGET:
        report.fail(f"edge: ordinary latency under the flood is p50 {ratio50:.2f}x / p99 {ratio99:.2f}x")
    if med["alone"]["errors"] or med["flood"]["errors"]:
        report.fail("edge: ordinary requests got errors")
    stack.stop("router-edge")
    stack.stop("edge-stub")


def _wrk_argv(url: str, script: Path, conns: int, seconds: int, load: Load) -> list[str]:
    wrk = shutil.which("wrk")
    assert wrk is not None, "the bench checks for wrk before running load sections"
    pinning = ["taskset", "-c", load.load_cpus] if load.load_cpus and shutil.which("taskset") else []
    return [*pinning, wrk, "-t1", f"-c{conns}", "-d", f"{seconds}s", "--timeout", "30s", "-s", str(script), url]


def _wrk(argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    proc = subprocess.run(argv, check=False, env={**os.environ, **env}, capture_output=True, text=True)
    return _parse_result(proc.stdout)


def _parse_result(stdout: str) -> dict[str, Any]:
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no RESULT line:\n{stdout}")
    result: dict[str, Any] = json.loads(line[len("RESULT ") :])
    return result


def _errors(result: dict[str, Any]) -> int:
    return sum(v for v in result["errors"].values() if isinstance(v, int))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.edge")
    parser.add_argument("--serve-stub", type=int, required=True, help="run the stub subgraph on this port")
    _serve_stub(parser.parse_args().serve_stub)
    sys.exit(0)
