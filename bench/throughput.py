"""Sections 2 and 6 — gateway throughput on the dashboard query, and router memory.

The dashboard query (customer -> saved meters -> meter/tariff/region -> last purchases and
usage: users -> master -> transactions, 4 subgraph fetches) at 50 connections for a fixed time:

* against the stand-ins (answers from memory): the router is what is measured. Router alone on
  the gateway CPU; wrk + stand-ins on the other. A unique authorization header per request
  (``bench/README.md`` §Method, Dedup: nothing can be coalesced; the stand-ins ignore it).
* against the real subgraphs on SQLite (the whole system, every process on every core, the
  demo customer's real bearer token): what a user would see end to end.

Memory: the router's RSS (all its processes) right after start-up and after the stand-in run.
"""

from __future__ import annotations

import time
from typing import Any

from . import common
from .common import BENCH_DIR, CLK_TCK, Load, Report, cpu_count, cpu_ticks, median, quiesce, run_wrk, table, tree
from .stack import DASHBOARD_QUERY, Stack, write_query

__all__ = ["run"]

CONNS = 50
TARGET_REAL_RPS = 400  # issue 17: the README's dashboard query on the real subgraphs, SQLite, 2 cores


def run(stack: Stack, load: Load, report: Report) -> None:
    body = write_query("dashboard", DASHBOARD_QUERY)
    script = BENCH_DIR / "lua" / "post.lua"
    _, standin_sg = stack.standins(cpus=load.load_cpus)
    all_cpus = f"0-{cpu_count() - 1}"
    stack.pin_system({n: all_cpus for n in ("router", "users", "master", "transactions", "biller")})
    # The stand-ins ignore headers; forwarding none lets identical subgraph queries be de-duplicated.
    env = {"ROUTER_HEADERS__PROPAGATE": "[]", **common.dedupe_env(common.SUBGRAPH_DEDUPE != "off")}
    router, url = stack.router("router-standin", standin_sg, cpus=load.gateway_cpus, env=env)
    nodedupe_url = None
    nodedupe = router
    if common.SUBGRAPH_DEDUPE == "both":
        nodedupe, nodedupe_url = stack.router(
            "router-standin-nodedupe", standin_sg, cpus=load.gateway_cpus, env={**env, **common.dedupe_env(False)}
        )
    quiesce(router.pids(), max_wait_s=10)
    rss_idle = router.rss_mb()

    runs: dict[str, list[Any]] = {"stand-ins": [], "real (SQLite)": []}
    if nodedupe_url is not None:
        runs["stand-ins, subgraph dedupe off"] = []
    system = stack.system()
    for rnd in range(load.rounds):
        order = list(runs) if rnd % 2 == 0 else list(reversed(runs))
        for which in order:
            if which.startswith("stand-ins"):
                res = run_wrk(
                    nodedupe_url if nodedupe_url and which != "stand-ins" else url,
                    script=script,
                    conns=CONNS,
                    duration_s=load.duration_s,
                    load=load,
                    env={"BODY_FILE": str(body), "CHECK": "1", "UNIQUE_AUTH": "1", "AUTH": f"Bearer {stack.token}"},
                    watch=(nodedupe if nodedupe_url and which != "stand-ins" else router).pids(),
                )
            else:
                before = {n: cpu_ticks(tree(p.pid)) for n, p in system.processes.items()}
                t0 = time.monotonic()
                res = run_wrk(
                    system.router_url,
                    script=script,
                    conns=CONNS,
                    duration_s=load.duration_s,
                    load=load,
                    env={"BODY_FILE": str(body), "CHECK": "1", "AUTH": f"Bearer {stack.token}"},
                    watch=[stack.system_pid("router")],
                )
                spent = time.monotonic() - t0
                res.extra["cpu_pct_by_service"] = {
                    n: round((cpu_ticks(tree(p.pid)) - before[n]) * 100 / CLK_TCK / spent, 1)
                    for n, p in system.processes.items()
                }
                print(f"      CPU % by service (warm-up + quiesce + run): {res.extra['cpu_pct_by_service']}")
            runs[which].append(res)
            print(
                f"    {which}: {res.rps:.0f} rps, p50 {res.lat_ms['p50']:.1f} ms, p99 {res.lat_ms['p99']:.1f} ms, "
                f"errors {res.error_count}, router CPU {res.gw_cpu_pct}%, foreign CPU {res.foreign_cpu_pct}%",
                flush=True,
            )
    rss_after = router.rss_mb()
    out: dict[str, Any] = {"query": DASHBOARD_QUERY, "conns": CONNS}
    rows = []
    for which, rs in runs.items():
        d = {
            "rps": median([r.rps for r in rs]),
            "p50_ms": median([r.lat_ms["p50"] for r in rs]),
            "p99_ms": median([r.lat_ms["p99"] for r in rs]),
            "errors": sum(r.error_count for r in rs),
            "rps_runs": [r.rps for r in rs],
            "router_cpu_pct": median([r.gw_cpu_pct or 0 for r in rs]),
            "runs": [r.as_dict() for r in rs],
        }
        out[which] = d
        rows.append(
            [
                which,
                f"{d['rps']:.0f}",
                " ".join(f"{x:.0f}" for x in d["rps_runs"]),
                f"{d['p50_ms']:.1f}",
                f"{d['p99_ms']:.1f}",
                d["errors"],
                f"{d['router_cpu_pct']:.0f}",
            ]
        )
        if d["errors"]:
            report.fail(f"{d['errors']} errors under load on the dashboard query against {which}")
    print(table(rows, ["subgraphs", "rps (median)", "rps runs", "p50 ms", "p99 ms", "errors", "router CPU %"]))
    real = out["real (SQLite)"]
    ok = real["rps"] >= TARGET_REAL_RPS and not real["errors"]
    print(
        f"  target: dashboard end to end on SQLite >= {TARGET_REAL_RPS} rps, 0 errors: {real['rps']:.0f} rps = "
        f"{real['rps'] / TARGET_REAL_RPS:.2f}x of target, {real['errors']} errors -> {'OK' if ok else 'MISSED'}"
    )
    if not ok:
        report.fail(f"dashboard on the real subgraphs (SQLite) {real['rps']:.0f} rps (target >= {TARGET_REAL_RPS})")
    stats = stack.standin_stats()
    print(f"  stand-in memo: {stats['memo']} distinct subgraph requests, hits/misses {stats['stats']}")
    print(
        f"  memory: router RSS idle {rss_idle:.0f} MB, after the stand-in runs {rss_after:.0f} MB "
        f"(x{rss_after / rss_idle:.2f})"
    )
    out["memory"] = {"router_rss_idle_mb": rss_idle, "router_rss_after_mb": rss_after}
    report.section("throughput", out)
    report.section("memory", out["memory"])
    stack.stop("router-standin")
    if nodedupe_url is not None:
        stack.stop("router-standin-nodedupe")
