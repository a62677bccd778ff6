"""Section 1 — router overhead: one query straight to a subgraph vs the same query through the router.

The query (``tariffs``) lives entirely in the master subgraph, so the router makes exactly one
subgraph call and everything it adds is its own cost: HTTP in, parse/plan cache lookup, one
subgraph round trip, projection, HTTP out. Two back ends: the stand-in (answers from memory, so
the difference is almost pure router time) and the real master subgraph on SQLite.
Direct and routed runs alternate; medians are reported; added = routed − direct.
"""

from __future__ import annotations

from typing import Any

from .common import BENCH_DIR, Load, Report, median, run_wrk, table
from .stack import Stack, write_query

__all__ = ["run"]

QUERY = "query Tariffs { tariffs { code description minVa maxVa rate ppnApplies } }"
TARGET_P50_MS = 1.0


def run(stack: Stack, load: Load, report: Report) -> None:
    body = write_query("tariffs", QUERY)
    script = BENCH_DIR / "lua" / "post.lua"
    env = {"BODY_FILE": str(body), "CHECK": "1"}
    standin_base, standin_sg = stack.standins(cpus=load.load_cpus)
    router, router_url = stack.router("router-standin", standin_sg, cpus=load.gateway_cpus)
    system = stack.system()
    # real system: router alone on the gateway CPU, master with the load generator
    stack.pin_system(
        {
            "router": load.gateway_cpus,
            "master": load.load_cpus,
            "users": load.load_cpus,
            "transactions": load.load_cpus,
            "biller": load.load_cpus,
        }
    )
    targets = {
        "stand-in": (f"{standin_base}/master", router_url, [router.pid]),
        "SQLite master": (stack.subgraph_url("master"), system.router_url, [stack.system_pid("router")]),
    }
    print(f"  query: {QUERY}")
    print("  (the stand-in answers from memory; 'SQLite master' is the real subgraph; same request body both ways)")
    rows: list[list[Any]] = []
    out: dict[str, Any] = {"query": QUERY, "results": {}}
    for backend, (direct_url, routed_url, watch) in targets.items():
        for conns in (1, 50):
            samples: dict[str, list[Any]] = {"direct": [], "router": []}
            for rnd in range(load.rounds):
                order = ["direct", "router"] if rnd % 2 == 0 else ["router", "direct"]
                for which in order:
                    url = direct_url if which == "direct" else routed_url
                    res = run_wrk(
                        url,
                        script=script,
                        conns=conns,
                        duration_s=max(3, load.duration_s // 2),
                        load=load,
                        env=env,
                        watch=watch,
                        warmup_s=min(2, load.warmup_s),
                    )
                    samples[which].append(res)
            d = {
                k: {m: median([r.lat_ms[m] for r in v]) for m in ("p50", "p99")}
                | {"rps": median([r.rps for r in v]), "errors": sum(r.error_count for r in v)}
                for k, v in samples.items()
            }
            added50 = d["router"]["p50"] - d["direct"]["p50"]
            added99 = d["router"]["p99"] - d["direct"]["p99"]
            out["results"][f"{backend}/c{conns}"] = {**d, "added_p50_ms": added50, "added_p99_ms": added99}
            rows.append(
                [
                    backend,
                    conns,
                    f"{d['direct']['p50']:.2f}",
                    f"{d['direct']['p99']:.2f}",
                    f"{d['router']['p50']:.2f}",
                    f"{d['router']['p99']:.2f}",
                    f"{added50:+.2f}",
                    f"{added99:+.2f}",
                    f"{d['direct']['rps']:.0f}",
                    f"{d['router']['rps']:.0f}",
                    d["direct"]["errors"] + d["router"]["errors"],
                ]
            )
            print(
                f"    {backend} c={conns}: direct p50 {d['direct']['p50']:.2f} ms, router p50 "
                f"{d['router']['p50']:.2f} ms -> added {added50:+.2f} ms",
                flush=True,
            )
    print(
        table(
            rows,
            [
                "subgraph",
                "conns",
                "direct p50",
                "direct p99",
                "router p50",
                "router p99",
                "added p50",
                "added p99",
                "direct rps",
                "router rps",
                "errors",
            ],
        )
    )
    added = out["results"]["stand-in/c1"]["added_p50_ms"]
    verdict = "OK" if added <= TARGET_P50_MS else "MISSED"
    print(f"  target: router added p50 at concurrency 1 <= {TARGET_P50_MS} ms (stand-in): {added:.2f} ms -> {verdict}")
    if added > TARGET_P50_MS:
        report.fail(f"router overhead p50 at c=1 is {added:.2f} ms (target <= {TARGET_P50_MS} ms)")
    if any(r[-1] for r in rows):
        report.fail("errors during the overhead runs")
    stack.stop("router-standin")
    stack.pin_system({n: "0-1" for n in ("router", "master", "users", "transactions", "biller")})
    report.section("overhead", out)
