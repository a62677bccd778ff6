"""Section 3 — peers: our router vs Apollo Gateway and Hive Gateway, same load, same subgraphs.

Two workloads, each with the SAME supergraph file for all three gateways, every gateway one
process alone on the gateway CPU, wrk + subgraphs on the other, runs alternating (A B C, then
C B A, ...), medians reported, ratios ours/peer computed from runs of the same block:

* ``dashboard``: our supergraph, our dashboard query, the memoising stand-ins of our subgraphs.
* ``heavy``: the public federation-gateway benchmark (graphql-hive/graphql-gateways-benchmark):
  its four subgraphs (``bench/peers/server.mjs``, memoised) and its "heavy" query (87.6 KB response).

Responses are compared across the three gateways before any load (``data`` must be equal).
Every request carries a unique authorization header (``bench/README.md`` §Method, Dedup), so no
gateway can coalesce.
Skipped with a message when Node.js is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from . import common
from .common import BENCH_DIR, Load, Report, median, run_wrk, table
from .stack import DASHBOARD_QUERY, PUBLIC_QUERIES, Stack, write_query

__all__ = ["run"]

CONNS = 50
ROUTER_REF: str | None = None  # --router-ref: also run the router of this commit (regression A/B)


def _check(urls: dict[str, str], bodies: dict[str, Path], headers: dict[str, str]) -> list[str]:
    problems = []
    for qname, path in bodies.items():
        body = path.read_bytes()
        results = {}
        for gw, url in urls.items():
            r = httpx.post(url, content=body, headers={"content-type": "application/json", **headers}, timeout=30)
            j = r.json()
            results[gw] = j
            size = len(r.content)
            err = json.dumps(j.get("errors"))[:200] if j.get("errors") else "0"
            print(f"    check {qname:9} {gw:7} status={r.status_code} bytes={size} errors={err}")
            if r.status_code != 200 or j.get("errors"):
                problems.append(f"{qname} via {gw}: status {r.status_code}, errors {err}")
        first = next(iter(results))
        for gw, j in results.items():
            if j.get("data") != results[first].get("data"):
                problems.append(f"{qname}: {gw} data differs from {first}")
        if not problems:
            print(f"    check {qname}: data IDENTICAL across {', '.join(results)}")
    return problems


def _workload(
    name: str,
    stack: Stack,
    load: Load,
    report: Report,
    supergraph: Path,
    body: Path,
    checks: dict[str, Path],
    check_headers: dict[str, str],
) -> dict[str, Any]:
    gws: dict[str, Any] = {}
    # Like the peers, our router forwards no client header here, so the unique authorization header
    # of each request does not keep identical subgraph queries apart (the peers' merging sees none).
    env = {"ROUTER_HEADERS__PROPAGATE": "[]", **common.dedupe_env(common.SUBGRAPH_DEDUPE != "off")}
    proc, url = stack.router(f"{name}-setrum", supergraph, cpus=load.gateway_cpus, env=env)
    gws["setrum"] = (proc, url)
    if common.SUBGRAPH_DEDUPE == "both":
        gws["setrum-nodedupe"] = stack.router(
            f"{name}-setrum-nodedupe", supergraph, cpus=load.gateway_cpus, env={**env, **common.dedupe_env(False)}
        )
    if ROUTER_REF:
        gws[f"setrum@{ROUTER_REF}"] = stack.router(
            f"{name}-setrum-ref", supergraph, cpus=load.gateway_cpus, ref=ROUTER_REF
        )
    gws["apollo"] = stack.apollo(supergraph, cpus=load.gateway_cpus, name=f"{name}-apollo")
    gws["hive"] = stack.hive(supergraph, cpus=load.gateway_cpus, name=f"{name}-hive")
    gateways = list(gws)
    problems = _check({g: u for g, (_, u) in gws.items()}, checks, check_headers)
    for p in problems:
        report.fail(f"peers/{name}: {p}")
    script = BENCH_DIR / "lua" / "post.lua"
    env = {"BODY_FILE": str(body), "CHECK": "1", "UNIQUE_AUTH": "1"}
    runs: dict[str, list[Any]] = {g: [] for g in gateways}
    for rnd in range(load.rounds):
        order = list(gateways) if rnd % 2 == 0 else list(reversed(gateways))
        for g in order:
            proc, url = gws[g]
            all_pids = [p for gp, _ in gws.values() for p in gp.pids()]
            res = run_wrk(
                url, script=script, conns=CONNS, duration_s=load.duration_s, load=load, env=env, watch=proc.pids()
            )
            res.extra["all_gateway_pids"] = all_pids
            runs[g].append(res)
            print(
                f"    {name} round {rnd + 1} {g:7}: {res.rps:7.1f} rps  p50 {res.lat_ms['p50']:8.1f} ms  "
                f"p99 {res.lat_ms['p99']:8.1f} ms  errors {res.error_count}  CPU {res.gw_cpu_pct}%  "
                f"RSS {res.gw_rss_mb} MB  foreign {res.foreign_cpu_pct}%",
                flush=True,
            )
    out: dict[str, Any] = {"conns": CONNS, "unique_authorization_header": True, "check_problems": problems}
    rows = []
    for g, rs in runs.items():
        d = {
            "rps": median([r.rps for r in rs]),
            "p50_ms": median([r.lat_ms["p50"] for r in rs]),
            "p99_ms": median([r.lat_ms["p99"] for r in rs]),
            "errors": sum(r.error_count for r in rs),
            "rps_runs": [r.rps for r in rs],
            "cpu_pct": median([r.gw_cpu_pct or 0 for r in rs]),
            "rss_mb": max(r.gw_rss_mb or 0 for r in rs),
            "runs": [r.as_dict() for r in rs],
        }
        out[g] = d
        rows.append(
            [
                g,
                f"{d['rps']:.1f}",
                " ".join(f"{x:.0f}" for x in d["rps_runs"]),
                f"{d['p50_ms']:.1f}",
                f"{d['p99_ms']:.1f}",
                d["errors"],
                f"{d['cpu_pct']:.0f}",
                f"{d['rss_mb']:.0f}",
            ]
        )
    print(table(rows, ["gateway", "rps (median)", "rps runs", "p50 ms", "p99 ms", "errors", "CPU %", "RSS MB"]))
    ours = out["setrum"]
    for peer in [g for g in gateways if g != "setrum"]:
        p = out[peer]
        rps_ratio = ours["rps"] / p["rps"] if p["rps"] else float("inf")
        p99_ratio = ours["p99_ms"] / p["p99_ms"] if p["p99_ms"] else float("inf")
        out[f"ratio_vs_{peer}"] = {"rps": rps_ratio, "p99": p99_ratio}
        print(f"  {name}: setrum/{peer} RPS = {rps_ratio:.2f}x, p99 = {p99_ratio:.2f}x (lower is better)")
    for g in gateways:
        if out[g]["errors"]:
            report.fail(f"peers/{name}: {out[g]['errors']} errors under load through {g}")
    for _, (proc, _) in gws.items():
        stack.stop(proc.name)
    return out


def run(stack: Stack, load: Load, report: Report) -> None:
    if not stack.node_ready():
        print("  SKIP: Node.js/npm not found (or the npm install failed); peers need Node.js")
        report.section("peers", {"skipped": "node absent"})
        return
    out: dict[str, Any] = {}
    # 1) our schema and query, on the stand-ins
    _, standin_sg = stack.standins(cpus=load.load_cpus)
    body = write_query("dashboard", DASHBOARD_QUERY)
    out["dashboard"] = _workload(
        "dashboard",
        stack,
        load,
        report,
        standin_sg,
        body,
        {"dashboard": body},
        {"authorization": f"Bearer {stack.token}"},
    )
    d = out["dashboard"]
    targets = [
        ("setrum/apollo RPS >= 1.5", d["ratio_vs_apollo"]["rps"] >= 1.5),
        ("setrum/hive RPS >= 1.0", d["ratio_vs_hive"]["rps"] >= 1.0),
        ("setrum p99 <= apollo p99", d["ratio_vs_apollo"]["p99"] <= 1.0),
        ("setrum p99 <= hive p99", d["ratio_vs_hive"]["p99"] <= 1.0),
    ]
    for label, ok in targets:
        print(f"  target {label}: {'OK' if ok else 'MISSED'}")
        if not ok:
            report.fail(f"peers/dashboard: {label}")
    # 2) the public benchmark workload
    _, public_sg = stack.public_subgraphs(cpus=load.load_cpus)
    out["heavy"] = _workload("heavy", stack, load, report, public_sg, PUBLIC_QUERIES["heavy"], PUBLIC_QUERIES, {})
    stack.stop("public-subgraphs")
    report.section("peers", out)
