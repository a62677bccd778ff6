"""Section scaling — the router with 2 worker processes against 1, on the public "heavy" query.

Issue 17: with 2 workers (``ROUTER_WORKERS=2``) on 2 cores the router serves at least 1.8x its
1-worker throughput. One worker runs alone on the gateway CPU (as in peers); two workers run on
every core, which they share with wrk and the memoised subgraph server (there is no third core).
Runs alternate, medians are compared. Besides the raw ratio the section prints the ratio with the
load generator accounted for: the 2-worker throughput scaled to the CPU the router could have had,
``rps2 x cores / (cores - load CPU)``, where "load" is what wrk and the subgraph server used during
the 2-worker run (other tenants are not subtracted: they show as foreign CPU and make the figure
worse, never better), against the 1-worker throughput on its own core. The target is checked on
that accounted ratio; both are recorded.
"""

from __future__ import annotations

import time
from typing import Any

from . import common
from .common import BENCH_DIR, CLK_TCK, Load, Report, cpu_count, cpu_ticks, median, run_wrk, summary, table
from .stack import PUBLIC_QUERIES, Stack

__all__ = ["run"]

CONNS = 50
TARGET = 1.8


def run(stack: Stack, load: Load, report: Report) -> None:
    if not stack.node_ready():
        print("  SKIP: the heavy workload's subgraph server needs Node.js")
        report.section("scaling", {"skipped": "node absent"})
        return
    cores = cpu_count()
    all_cpus = f"0-{cores - 1}"
    _, supergraph = stack.public_subgraphs(cpus=load.load_cpus)
    env = {"ROUTER_HEADERS__PROPAGATE": "[]", **common.dedupe_env(common.SUBGRAPH_DEDUPE != "off")}
    routers = {
        "1 worker": stack.router("scaling-1", supergraph, cpus=load.gateway_cpus, env=env),
        "2 workers": stack.router("scaling-2", supergraph, cpus=all_cpus, env={**env, "ROUTER_WORKERS": "2"}),
    }
    script = BENCH_DIR / "lua" / "post.lua"
    wrk_env = {"BODY_FILE": str(PUBLIC_QUERIES["heavy"]), "CHECK": "1", "UNIQUE_AUTH": "1"}
    runs: dict[str, list[Any]] = {name: [] for name in routers}
    subgraphs = stack.procs["public-subgraphs"]
    for rnd in range(load.rounds):
        for name in list(routers) if rnd % 2 == 0 else list(reversed(routers)):
            proc, url = routers[name]
            started: list[float] = []

            def mark(started: list[float] = started) -> None:
                started += [cpu_ticks(subgraphs.pids()), time.monotonic()]

            res = run_wrk(
                url,
                script=script,
                conns=CONNS,
                duration_s=load.duration_s,
                load=load,
                env=wrk_env,
                watch=proc.pids(),
                before_run=mark,
            )
            spent = time.monotonic() - started[1]
            res.extra["subgraphs_cpu_pct"] = round(
                (cpu_ticks(subgraphs.pids()) - started[0]) * 100 / CLK_TCK / spent, 1
            )
            runs[name].append(res)
            print(
                f"    round {rnd + 1} {name:9}: {res.rps:7.1f} rps  p99 {res.lat_ms['p99']:7.1f} ms  "
                f"errors {res.error_count}  router CPU {res.gw_cpu_pct}%  wrk {res.extra['wrk_cpu_pct']}%  "
                f"subgraphs {res.extra['subgraphs_cpu_pct']}%  box CPU {res.extra['system_cpu_pct']}%  "
                f"processes {len(proc.pids())}",
                flush=True,
            )
    med: dict[str, dict[str, Any]] = {}
    for name, rs in runs.items():
        med[name] = summary(
            rs,
            router_cpu_pct=median([r.gw_cpu_pct or 0.0 for r in rs]),
            system_cpu_pct=median([r.extra["system_cpu_pct"] for r in rs]),
            load_cpu_pct=median([r.extra["wrk_cpu_pct"] + r.extra["subgraphs_cpu_pct"] for r in rs]),
        )
    one, two = med["1 worker"], med["2 workers"]
    other = two["load_cpu_pct"]  # wrk and the subgraph server
    available = max(1.0, cores * 100 - other)
    raw = two["rps"] / one["rps"] if one["rps"] else float("inf")
    accounted = raw * cores * 100 / available
    print(
        table(
            [
                [n, f"{d['rps']:.1f}", f"{d['p99_ms']:.1f}", f"{d['router_cpu_pct']:.0f}", f"{d['system_cpu_pct']:.0f}"]
                for n, d in med.items()
            ],
            ["router", "rps (median)", "p99 ms", "router CPU %", "box CPU %"],
        )
    )
    ok = accounted >= TARGET
    print(
        f"  2 workers / 1 worker on heavy: {raw:.2f}x raw; {accounted:.2f}x with the load generator accounted for "
        f"(wrk + subgraphs used {other:.0f}% of {cores * 100}%) -> target >= {TARGET}x: {'met' if ok else 'MISSED'}"
    )
    report.section("scaling", {"medians": med, "raw_ratio": raw, "accounted_ratio": accounted, "other_cpu_pct": other})
    if not ok:
        report.fail(
            f"scaling: 2 workers serve {accounted:.2f}x of 1 on heavy, load generator accounted (target >= 1.8x)"
        )
    if one["errors"] or two["errors"]:
        report.fail("scaling: errors under load")
    for name in ("scaling-1", "scaling-2"):
        stack.stop(name)
