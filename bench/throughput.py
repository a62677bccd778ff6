"""Sections 2 and 6 — gateway throughput on the dashboard query, and router memory.

The dashboard query (customer -> saved meters -> meter/tariff/region -> last purchases and
usage: users -> master -> transactions, 4 subgraph fetches) at 50 connections for a fixed time:

* against the stand-ins (answers from memory): the router is what is measured. Router alone on
  the gateway CPU; wrk + stand-ins on the other. A unique authorization header per request
  (``bench/README.md`` §Method, Dedup: nothing can be coalesced; the stand-ins ignore it).
* against the real subgraphs on SQLite (the whole system, every process on every core, the
  demo customer's real bearer token): what a user would see end to end. With ``--postgres-url`` the
  same again on PostgreSQL (a second system on fresh databases, in the same alternating rounds).
  For both, the statements each subgraph sent to its database per request (their ``/metrics``,
  ``db_statements_total``): batched entity resolvers keep it flat, an N+1 grows it with the data.

Memory: the router's RSS (all its processes) right after start-up and after the stand-in run.
"""

from __future__ import annotations

import os
import time
from typing import Any

from . import common
from .common import (
    BENCH_DIR,
    CLK_TCK,
    Load,
    Report,
    cpu_count,
    cpu_ticks,
    median,
    quiesce,
    run_wrk,
    summary,
    table,
    tree,
)
from .hops import metric_samples
from .stack import DASHBOARD_QUERY, Stack, sign_in, write_query

__all__ = ["round_trips", "run"]

CONNS = 50
# issue 17: the README's dashboard query on the real subgraphs, 2 cores
TARGET_REAL_RPS = {"real (SQLite)": 400, "real (PostgreSQL)": 300}
SUBGRAPHS = ("users", "master", "transactions")


def round_trips(system: Any, names: tuple[str, ...] = SUBGRAPHS) -> dict[str, tuple[float, float, float]]:
    """(statements, transactions with their own BEGIN, GraphQL requests served) of each service so far."""
    out = {}
    for name in names:
        samples = metric_samples(f"http://127.0.0.1:{getattr(system.ports, name)}")
        values = {s.name: s.value for s in samples}
        served = sum(
            s.value for s in samples if s.name == "http_requests_total" and s.labels.get("route") == "/graphql"
        )
        out[name] = (values.get("db_statements_total", 0.0), values.get("db_transactions_total", 0.0), served)
    return out


def _real(system: Any, token: str, body: Any, script: Any, load: Load) -> Any:
    """One run of the dashboard through ``system``'s router, with CPU % and round trips per service."""
    before = {n: cpu_ticks(tree(p.pid)) for n, p in system.processes.items()}
    trips: dict[str, dict[str, tuple[float, float, float]]] = {}
    t0 = time.monotonic()
    res = run_wrk(
        system.router_url,
        script=script,
        conns=CONNS,
        duration_s=load.duration_s,
        load=load,
        env={"BODY_FILE": str(body), "CHECK": "1", "AUTH": f"Bearer {token}"},
        watch=[system.processes["router"].pid],
        before_run=lambda: trips.update(before=round_trips(system)),
    )
    spent = time.monotonic() - t0
    after = round_trips(system)
    requests = max(1, res.requests)
    res.extra["cpu_pct_by_service"] = {
        n: round((cpu_ticks(tree(p.pid)) - before[n]) * 100 / CLK_TCK / spent, 1) for n, p in system.processes.items()
    }
    delta = {n: [a - b for a, b in zip(after[n], trips["before"][n], strict=True)] for n in SUBGRAPHS}
    # Per client request (the router may merge identical subgraph requests in flight) and per request
    # the subgraph served (what its resolvers cost: flat when batched, growing with the data when N+1).
    res.extra["statements_per_request"] = {n: round(d[0] / requests, 2) for n, d in delta.items()}
    res.extra["transactions_per_request"] = {n: round(d[1] / requests, 2) for n, d in delta.items()}
    res.extra["subgraph_requests_per_request"] = {n: round(d[2] / requests, 2) for n, d in delta.items()}
    res.extra["statements_per_subgraph_request"] = {n: round(d[0] / max(1.0, d[2]), 2) for n, d in delta.items()}
    print(f"      CPU % by service (warm-up + quiesce + run): {res.extra['cpu_pct_by_service']}")
    print(
        f"      per request: database statements {res.extra['statements_per_request']}, transactions (own BEGIN) "
        f"{res.extra['transactions_per_request']}, subgraph requests {res.extra['subgraph_requests_per_request']}; "
        f"statements per subgraph request {res.extra['statements_per_subgraph_request']}"
    )
    return res


def run(stack: Stack, load: Load, report: Report, postgres_url: str | None = None) -> None:
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
    real = {"real (SQLite)": (system, stack.token or "")}
    admin_url = postgres_url or os.environ.get("SETRUM_BENCH_POSTGRES_URL")
    pg_system = None
    if admin_url:
        from .purchases import postgres_system

        print("  starting the real system on PostgreSQL (fresh databases) ...", flush=True)
        pg_system = postgres_system(
            stack, admin_url, "system-postgres-dashboard", env=common.dedupe_env(common.SUBGRAPH_DEDUPE != "off")
        )
        stack.extra_pids = [p.pid for p in pg_system.processes.values()]
        real["real (PostgreSQL)"] = (pg_system, sign_in(pg_system.router_url))
        runs["real (PostgreSQL)"] = []
    try:
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
                        env={
                            "BODY_FILE": str(body),
                            "CHECK": "1",
                            "UNIQUE_AUTH": "1",
                            "AUTH": f"Bearer {stack.token}",
                        },
                        watch=(nodedupe if nodedupe_url and which != "stand-ins" else router).pids(),
                    )
                else:
                    res = _real(*real[which], body, script, load)
                runs[which].append(res)
                print(
                    f"    {which}: {res.rps:.0f} rps, p50 {res.lat_ms['p50']:.1f} ms, p99 {res.lat_ms['p99']:.1f} ms, "
                    f"errors {res.error_count}, router CPU {res.gw_cpu_pct}%, foreign CPU {res.foreign_cpu_pct}%",
                    flush=True,
                )
    finally:
        if pg_system is not None:
            stack.extra_pids = []
            pg_system.stop()
    rss_after = router.rss_mb()
    out: dict[str, Any] = {"query": DASHBOARD_QUERY, "conns": CONNS}
    rows = []
    for which, rs in runs.items():
        d = summary(rs, router_cpu_pct=median([r.gw_cpu_pct or 0 for r in rs]))
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
    for which, target in TARGET_REAL_RPS.items():
        if which not in out:
            print(f"  target: dashboard {which} >= {target} rps: not measured (PostgreSQL needs --postgres-url)")
            continue
        d = out[which]
        last = d["runs"][-1]
        d["statements_per_request"] = last["statements_per_request"]
        d["transactions_per_request"] = last["transactions_per_request"]
        d["statements_per_subgraph_request"] = last["statements_per_subgraph_request"]
        ok = d["rps"] >= target and not d["errors"]
        print(
            f"  target: dashboard {which} >= {target} rps, 0 errors: {d['rps']:.0f} rps = {d['rps'] / target:.2f}x "
            f"of target, {d['errors']} errors -> {'OK' if ok else 'MISSED'}; statements per request "
            f"{d['statements_per_request']}, per subgraph request {d['statements_per_subgraph_request']}"
        )
        if not ok:
            report.fail(f"dashboard on the {which} subgraphs {d['rps']:.0f} rps (target >= {target})")
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
