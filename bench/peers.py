"""Section 3 — peers: our router against Apollo Gateway, Hive Gateway and Hive Gateway with its Rust
query planner (``@graphql-hive/router-runtime``), same load, same subgraphs.

Two blocks, each with the SAME supergraph file for every gateway, every gateway one process alone
on the gateway CPU, wrk + subgraphs on the other, runs alternating (A B C …, then … C B A), medians
reported, ratios ours/peer computed from runs of the same block:

* ``dashboard``: our supergraph, our dashboard query, the memoising stand-ins of our subgraphs.
* ``heavy``, ``small``, ``two``: the public federation-gateway benchmark
  (graphql-hive/graphql-gateways-benchmark): its four subgraphs (``bench/peers/server.mjs``,
  memoised) and its queries (heavy: 87.6 KB response; small: 4 subgraphs; two: 2 subgraphs).

Merging of identical subgraph requests in flight (ours, Hive Gateway's, Hive + Rust's) follows
``--subgraph-dedupe``: ``on`` (each gateway's default), ``off``, or ``both`` (every gateway that
has the switch runs twice, ``-nodedupe`` being the second; Apollo Gateway has no such merging).
Ratios compare gateways in the same mode. The public block also prints how many subgraph requests
each gateway sent per client request (the subgraph server's counters).

Responses are compared across all gateways before any load (``data`` must be equal).
Every request carries a unique authorization header (``bench/README.md`` §Method, Dedup), so no
gateway can coalesce inbound requests. Skipped with a message when Node.js is absent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from . import common
from .common import BENCH_DIR, Load, Proc, Report, median, run_wrk, summary, table
from .stack import DASHBOARD_QUERY, PUBLIC_QUERIES, Stack, write_query

__all__ = ["PEERS", "QUERIES", "run"]

CONNS = 50
ROUTER_REF: str | None = None  # --router-ref: also run the router of this commit (regression A/B)
QUERIES = ("dashboard", "heavy", "small", "two")  # --peer-queries narrows it
PEERS = ("apollo", "hive", "hive-rust")  # --peer-gateways narrows it
NODEDUPE = "-nodedupe"
# Issue 17's targets on the public queries, per merging mode: (peer, least RPS ratio, p99 must not be worse).
PUBLIC_TARGETS = (("hive-rust", 1.3, True), ("apollo", 3.0, False))
# The dashboard's targets (issue 7): (peer, least RPS ratio, p99 must not be worse).
DASHBOARD_TARGETS = (("apollo", 1.5, True), ("hive", 1.0, True))


def _modes() -> list[bool]:
    return {"on": [True], "off": [False], "both": [True, False]}[common.SUBGRAPH_DEDUPE]


def _suffix(dedupe: bool) -> str:
    return "" if dedupe else NODEDUPE


def _check(urls: dict[str, str], bodies: dict[str, Path], headers: dict[str, str]) -> list[str]:
    problems = []
    for qname, path in bodies.items():
        body = path.read_bytes()
        results = {}
        for gw, url in urls.items():
            r = httpx.post(url, content=body, headers={"content-type": "application/json", **headers}, timeout=30)
            j = r.json()
            results[gw] = j
            err = json.dumps(j.get("errors"))[:200] if j.get("errors") else "0"
            print(f"    check {qname:9} {gw:18} status={r.status_code} bytes={len(r.content)} errors={err}")
            if r.status_code != 200 or j.get("errors"):
                problems.append(f"{qname} via {gw}: status {r.status_code}, errors {err}")
        first = next(iter(results))
        differ = [gw for gw, j in results.items() if j.get("data") != results[first].get("data")]
        problems += [f"{qname}: {gw} data differs from {first}" for gw in differ]
        if not differ:
            print(f"    check {qname}: data IDENTICAL across {', '.join(results)}")
    return problems


def _start_gateways(
    block: str, stack: Stack, load: Load, supergraph: Path, skipped: dict[str, str]
) -> dict[str, tuple[Proc, str]]:
    gws: dict[str, tuple[Proc, str]] = {}
    # Like the peers, our router forwards no client header here, so the unique authorization header
    # of each request does not keep identical subgraph queries apart.
    for dedupe in _modes():
        env = {"ROUTER_HEADERS__PROPAGATE": "[]", **common.dedupe_env(dedupe)}
        name = "setrum" + _suffix(dedupe)
        gws[name] = stack.router(f"{block}-{name}", supergraph, cpus=load.gateway_cpus, env=env)
    if ROUTER_REF:
        env = {"ROUTER_HEADERS__PROPAGATE": "[]", **common.dedupe_env(_modes()[0])}
        gws[f"setrum@{ROUTER_REF}"] = stack.router(
            f"{block}-setrum-ref", supergraph, cpus=load.gateway_cpus, env=env, ref=ROUTER_REF
        )
    starts: list[tuple[str, Callable[[], tuple[Proc, str]]]] = []
    if "apollo" in PEERS:
        starts.append(("apollo", partial(stack.apollo, supergraph, load.gateway_cpus, f"{block}-apollo")))
    for dedupe in _modes():
        for peer, rust in (("hive", False), ("hive-rust", True)):
            if peer in PEERS:
                name = peer + _suffix(dedupe)
                hive = partial(stack.hive, supergraph, load.gateway_cpus, f"{block}-{name}", rust=rust, dedupe=dedupe)
                starts.append((name, hive))
    for name, start in starts:
        try:
            gws[name] = start()
        except RuntimeError as exc:  # e.g. a peer that refuses a linked feature of our supergraph
            reason = next((ln.strip() for ln in str(exc).splitlines() if "Error" in ln), str(exc).splitlines()[0])
            print(f"    SKIP {name} in {block}: it did not start on this supergraph ({reason[:160]})", flush=True)
            skipped[name] = reason
    return gws


def _measure(
    block: str,
    query: str,
    body: Path,
    gws: dict[str, tuple[Proc, str]],
    load: Load,
    report: Report,
    subgraph_requests: Callable[[], int] | None = None,
    auth: str = "",
) -> dict[str, Any]:
    """Alternating rounds of ``query`` through every gateway; medians, and per-gateway subgraph requests
    per client request when ``subgraph_requests()`` counts what the subgraphs received; ``auth``: the
    authorization header every request carries (a unique header beside it keeps requests apart)."""
    script = BENCH_DIR / "lua" / "post.lua"
    env = {"BODY_FILE": str(body), "CHECK": "1", "UNIQUE_AUTH": "1", "AUTH": auth}
    gateways = list(gws)
    runs: dict[str, list[Any]] = {g: [] for g in gateways}
    for rnd in range(load.rounds):
        order = gateways if rnd % 2 == 0 else list(reversed(gateways))
        for g in order:
            proc, url = gws[g]
            counted: dict[str, int] = {}

            def count_before(counted: dict[str, int] = counted) -> None:
                if subgraph_requests is not None:
                    counted["before"] = subgraph_requests()

            res = run_wrk(
                url,
                script=script,
                conns=CONNS,
                duration_s=load.duration_s,
                load=load,
                env=env,
                watch=proc.pids(),
                before_run=count_before,
            )
            if subgraph_requests is not None and res.requests:
                res.extra["subgraph_requests_per_request"] = (subgraph_requests() - counted["before"]) / res.requests
            runs[g].append(res)
            fan = res.extra.get("subgraph_requests_per_request")
            print(
                f"    {query} round {rnd + 1} {g:18}: {res.rps:7.1f} rps  p50 {res.lat_ms['p50']:8.1f} ms  "
                f"p99 {res.lat_ms['p99']:8.1f} ms  errors {res.error_count}  CPU {res.gw_cpu_pct}%  "
                f"RSS {res.gw_rss_mb} MB  foreign {res.foreign_cpu_pct}%"
                + (f"  subgraph req/req {fan:.2f}" if fan is not None else ""),
                flush=True,
            )
    out: dict[str, Any] = {"conns": CONNS, "unique_authorization_header": True}
    rows = []
    for g, rs in runs.items():
        fans = [r.extra["subgraph_requests_per_request"] for r in rs if "subgraph_requests_per_request" in r.extra]
        d = summary(
            rs,
            cpu_pct=median([r.gw_cpu_pct or 0 for r in rs]),
            # CPU per request holds up better than req/s on a box other tenants load
            cpu_ms_per_request=median([(r.gw_cpu_pct or 0) * 10 / r.rps if r.rps else 0.0 for r in rs]),
            rss_mb=max(r.gw_rss_mb or 0 for r in rs),
            subgraph_requests_per_request=median(fans) if fans else None,
        )
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
                f"{d['cpu_ms_per_request']:.2f}",
                f"{d['rss_mb']:.0f}",
                "-" if d["subgraph_requests_per_request"] is None else f"{d['subgraph_requests_per_request']:.2f}",
            ]
        )
        if d["errors"]:
            report.fail(f"peers/{query}: {d['errors']} errors under load through {g}")
    print(f"  {query}:")
    print(
        table(
            rows,
            [
                "gateway",
                "rps (median)",
                "rps runs",
                "p50 ms",
                "p99 ms",
                "errors",
                "CPU %",
                "CPU ms/req",
                "RSS MB",
                "subgraph req/req",
            ],
        )
    )
    return out


def _ratios(query: str, out: dict[str, Any], targets: tuple[tuple[str, float, bool], ...], report: Report) -> None:
    """setrum ÷ each peer in the same merging mode (Apollo Gateway has none: it is every mode's peer)."""
    for dedupe in _modes():
        ours_name = "setrum" + _suffix(dedupe)
        ours = out[ours_name]
        for peer in ("apollo", "hive", "hive-rust"):
            peer_name = peer if peer == "apollo" else peer + _suffix(dedupe)
            if peer_name not in out:
                if any(t[0] == peer for t in targets) and peer in PEERS:
                    print(f"  {query}: {ours_name}/{peer_name}: not measured ({peer_name} did not run)")
                continue
            p = out[peer_name]
            rps = ours["rps"] / p["rps"] if p["rps"] else float("inf")
            p99 = ours["p99_ms"] / p["p99_ms"] if p["p99_ms"] else float("inf")
            out[f"ratio_{ours_name}_vs_{peer_name}"] = {"rps": rps, "p99": p99}
            verdict = ""
            for target_peer, least, p99_bound in targets:
                if target_peer != peer:
                    continue
                ok = rps >= least and (not p99_bound or p99 <= 1.0)
                verdict = f"  target RPS >= {least}x" + (", p99 <= 1.0x" if p99_bound else "")
                verdict += ": met" if ok else ": MISSED"
                if not ok:
                    report.fail(
                        f"peers/{query}: {ours_name}/{peer_name} RPS {rps:.2f}x, p99 {p99:.2f}x "
                        f"(target >= {least}x{', p99 <= 1.0x' if p99_bound else ''})"
                    )
            print(f"  {query}: {ours_name}/{peer_name} RPS = {rps:.2f}x, p99 = {p99:.2f}x{verdict}")


def _block(
    block: str,
    stack: Stack,
    load: Load,
    report: Report,
    supergraph: Path,
    queries: dict[str, Path],
    check_headers: dict[str, str],
    targets: tuple[tuple[str, float, bool], ...],
    subgraph_requests: Callable[[], int] | None = None,
) -> dict[str, Any]:
    skipped: dict[str, str] = {}
    gws = _start_gateways(block, stack, load, supergraph, skipped)
    out: dict[str, Any] = {}
    try:
        problems = _check({g: u for g, (_, u) in gws.items()}, queries, check_headers)
        for p in problems:
            report.fail(f"peers/{block}: {p}")
        for query, body in queries.items():
            auth = check_headers.get("authorization", "")
            out[query] = _measure(block, query, body, gws, load, report, subgraph_requests, auth)
            out[query]["check_problems"] = problems
            out[query]["skipped"] = skipped
            _ratios(query, out[query], targets, report)
    finally:
        for proc, _ in gws.values():
            stack.stop(proc.name)
    return out


def run(stack: Stack, load: Load, report: Report) -> None:
    if not stack.node_ready():
        print("  SKIP: Node.js/npm not found (or the npm install failed); peers need Node.js")
        report.section("peers", {"skipped": "node absent"})
        return
    out: dict[str, Any] = {"merging": common.SUBGRAPH_DEDUPE}
    if "dashboard" in QUERIES:
        # 1) our schema and query, on the stand-ins
        _, standin_sg = stack.standins(cpus=load.load_cpus)
        body = write_query("dashboard", DASHBOARD_QUERY)
        headers = {"authorization": f"Bearer {stack.token}"}
        try:
            out |= _block("dashboard", stack, load, report, standin_sg, {"dashboard": body}, headers, DASHBOARD_TARGETS)
        except Exception as exc:  # the public block below must still run
            report.fail(f"peers/dashboard crashed: {type(exc).__name__}: {exc}"[:300])
    public = {q: PUBLIC_QUERIES[q] for q in QUERIES if q in PUBLIC_QUERIES}
    if public:
        # 2) the public benchmark workload
        base, public_sg = stack.public_subgraphs(cpus=load.load_cpus)

        def subgraph_requests() -> int:
            return sum(httpx.get(f"{base}/stats", timeout=10).json()["requests"].values())

        out |= _block("public", stack, load, report, public_sg, public, {}, PUBLIC_TARGETS, subgraph_requests)
        stack.stop("public-subgraphs")
        stack.public_supergraph = None
    report.section("peers", out)
