"""``python -m bench [--quick] [--only SECTION,...]`` (sections: see SECTIONS below)

Prints the machine (cores, CPU model), the load settings, then every section's figures as
ratios or comparisons measured in this run; saves everything to ``bench/.work/results-*.json``.
Exit code 1 when a target was missed (the run still completes).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback

from .common import Load, Report, cpu_count, ensure_wrk

SECTIONS = (
    "overhead",
    "throughput",
    "peers",
    "scaling",
    "planner",
    "purchases",
    "memory",
    "fastpath",
    "edge",
    "edgecost",
    "refusalcost",
    "storm",
)
NEEDS_WRK = {"overhead", "throughput", "peers", "scaling", "purchases", "memory", "edge", "edgecost"}
# memory is measured inside throughput (router RSS idle -> after the run)
MODULES = {
    "overhead": "overhead",
    "throughput": "throughput",
    "memory": "throughput",
    "peers": "peers",
    "scaling": "scaling",
    "planner": "planner",
    "purchases": "purchases",
    "fastpath": "fastpath",
    "edge": "edge",
    "edgecost": "edgecost",
    "refusalcost": "refusalcost",
    "storm": "storm",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument("--quick", action="store_true", help="short runs (5 s, 1 round): a smoke test, not figures")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--duration", type=int, help="measured seconds per run (default 15, quick 5)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 3, quick 1)")
    parser.add_argument(
        "--postgres-url",
        help="PostgreSQL admin URL for the purchases, storm, edgecost and throughput sections "
        "(default: $SETRUM_BENCH_POSTGRES_URL, else a throw-away local cluster if initdb exists)",
    )
    parser.add_argument(
        "--foreign-wait",
        type=float,
        help="seconds to wait before each run for other tenants' "
        "CPU use to drop under 15%% of a core (default 30; $BENCH_FOREIGN_WAIT_S)",
    )
    parser.add_argument(
        "--router-ref", help="peers: also run our router as of this git commit (A/B against the work tree, same run)"
    )
    parser.add_argument(
        "--subgraph-dedupe",
        choices=("on", "off", "both"),
        default="on",
        help="peers, throughput: merging of identical subgraph queries in flight, ours and the Hive gateways' "
        "(both: every gateway with the switch also runs with it off, same rounds)",
    )
    parser.add_argument(
        "--peer-gateways",
        default="apollo,hive,hive-rust",
        help="peers: which peers run beside our router (hive-rust: Hive Gateway with the Rust query planner)",
    )
    parser.add_argument(
        "--peer-queries",
        default="dashboard,heavy,small,two",
        help="peers: which queries (dashboard: ours on the stand-ins; heavy, small, two: the public benchmark's)",
    )
    args = parser.parse_args(argv)
    # The systems the sections start seed bench meters beside the demo ones (every process inherits
    # this): purchases at capacity for a minute pass the demo meters' monthly kWh caps. 400 meters take
    # about 480,000 purchases; the storm section's three rounds sold 133,000 on one system, and with 100
    # meters its last storm met the caps (KWH_LIMIT_EXCEEDED, counted as errors).
    os.environ.setdefault("SETRUM_DEMO_BENCH_METERS", "400")
    from . import common as _common

    _common.SUBGRAPH_DEDUPE = args.subgraph_dedupe
    from . import peers as _peers

    _peers.QUERIES = tuple(q.strip() for q in args.peer_queries.split(",") if q.strip())
    _peers.PEERS = tuple(g.strip() for g in args.peer_gateways.split(",") if g.strip())
    if set(_peers.PEERS) - {"apollo", "hive", "hive-rust"}:
        parser.error(f"unknown peer gateway(s) in {args.peer_gateways!r}")
    unknown_queries = set(_peers.QUERIES) - {"dashboard", "heavy", "small", "two"}
    if unknown_queries:
        parser.error(f"unknown peer query(s): {', '.join(sorted(unknown_queries))}")
    if args.router_ref:
        from . import peers

        peers.ROUTER_REF = args.router_ref
    if args.foreign_wait is not None:
        from . import common

        common.FOREIGN_WAIT_S = args.foreign_wait
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(wanted) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    load = Load(
        duration_s=args.duration or (5 if args.quick else 15),
        warmup_s=2 if args.quick else 3,
        rounds=args.rounds or (1 if args.quick else 3),
    )
    if cpu_count() < 2:
        load.load_cpus = load.gateway_cpus = "0"

    report = Report()
    m = report.data["machine"]
    print("Setrum benchmark suite")
    print(
        f"  machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB RAM, kernel {m['kernel']}, "
        f"Python {m['python']}, Node {m['node'] or 'absent'}"
    )
    print(f"  date: {m['date']}")
    print(f"  command: python -m bench {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"  load: {load.describe()}")
    report.data["load"] = vars(load)
    report.data["command"] = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    report.data["postgres_url"] = args.postgres_url

    if NEEDS_WRK & set(wanted) and ensure_wrk() is None:
        wanted = [s for s in wanted if s not in NEEDS_WRK]

    from .stack import Stack

    stack = Stack()
    done: set[str] = set()
    try:
        for name in SECTIONS:
            if name not in wanted or MODULES[name] in done:
                continue
            done.add(MODULES[name])
            title = "throughput + memory" if MODULES[name] == "throughput" else name
            print(f"\n== {title} ==", flush=True)
            t0 = time.monotonic()
            try:
                module = importlib.import_module(f"bench.{MODULES[name]}")
                module.run(
                    stack,
                    load,
                    report,
                    **(
                        {"postgres_url": args.postgres_url}
                        if MODULES[name] in ("purchases", "storm", "edgecost", "throughput")
                        else {}
                    ),
                )
            except Exception as exc:  # one broken section must not hide the others
                traceback.print_exc()
                report.fail(f"section {name} crashed: {type(exc).__name__}: {exc}")
            print(f"  ({time.monotonic() - t0:.0f}s)", flush=True)
    finally:
        stack.close()
    path = report.save()
    print(f"\nresults saved to {path}")
    if report.failures:
        print("targets missed / problems:")
        for f in report.failures:
            print(f"  - {f}")
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
