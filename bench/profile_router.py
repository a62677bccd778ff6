"""Profile our router under the benchmark load.

    python -m bench.profile_router [dashboard|heavy|small|two|tariffs] [--seconds N] [--spy]

``--spy``: the router runs unmodified (``python -m router serve``) and py-spy samples it from
outside (``pip install -e '.[bench]'``), which does not slow Python down as cProfile does; prints
the functions with the most samples on top of the stack (own) and anywhere on it (inclusive), and
keeps the folded stacks in ``bench/.work/spy-router-<workload>.txt`` (flame-graph input).

Starts the stand-ins (or the public benchmark's subgraphs for ``heavy``), then the router in a
child process under cProfile (``--serve`` mode below: ``router.app.create_app`` on uvicorn +
uvloop + httptools, exactly like ``python -m router serve``), pinned to the gateway CPU, drives
it with wrk at 50 connections, stops it (SIGTERM -> profile dumped) and prints the top functions
by own time and by cumulative time. cProfile slows Python code down ~1.5-2x, so read the shares,
not the absolute times. Output: ``bench/.work/profile-<workload>.prof`` (pstats).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _serve(supergraph: str, port: int, out: str) -> None:
    os.environ["ROUTER_SUPERGRAPH"] = supergraph
    os.environ.setdefault("ROUTER_LOG_LEVEL", "WARNING")
    import uvicorn

    from router.app import create_app

    app = create_app()
    profiler = cProfile.Profile()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
    )
    server = uvicorn.Server(config)

    def _exit(*_: object) -> None:
        raise SystemExit(0)

    # uvicorn restores this handler after its graceful shutdown and re-raises SIGTERM: exit via
    # SystemExit so the profile below gets written.
    signal.signal(signal.SIGTERM, _exit)
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_router")
    parser.add_argument(
        "workload", nargs="?", default="dashboard", choices=["dashboard", "heavy", "small", "two", "tariffs"]
    )
    parser.add_argument("--spy", action="store_true", help="sample with py-spy instead of cProfile")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--serve", nargs=3, metavar=("SUPERGRAPH", "PORT", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]), args.serve[2])
        return 0

    from .common import BENCH_DIR, PYTHON, WORK, Load, Proc, free_port, run_wrk, wait_http
    from .overhead import QUERY as TARIFFS
    from .stack import DASHBOARD_QUERY, PUBLIC_QUERIES, Stack, write_query

    stack = Stack()
    load = Load()
    out = WORK / f"profile-{args.workload}.prof"
    try:
        if args.workload in PUBLIC_QUERIES:
            if not stack.node_ready():
                print(f"{args.workload} needs Node.js")
                return 2
            _, supergraph = stack.public_subgraphs(cpus=load.load_cpus)
            body = PUBLIC_QUERIES[args.workload]
        else:
            _, supergraph = stack.standins(cpus=load.load_cpus)
            body = write_query(args.workload, DASHBOARD_QUERY if args.workload == "dashboard" else TARIFFS)
        if args.spy:
            return _spy(stack, load, supergraph, body, args.workload, args.seconds, args.top)
        port = free_port()
        proc = stack.start(
            Proc(
                "router-profiled",
                [PYTHON, "-m", "bench.profile_router", "--serve", str(supergraph), str(port), str(out)],
                cpus=load.gateway_cpus,
            )
        )
        url = f"http://127.0.0.1:{port}/graphql"
        wait_http(f"http://127.0.0.1:{port}/health", proc)
        res = run_wrk(
            url,
            script=BENCH_DIR / "lua" / "post.lua",
            conns=50,
            duration_s=args.seconds,
            load=load,
            env={"BODY_FILE": str(body), "CHECK": "1", "UNIQUE_AUTH": "1"},
            watch=proc.pids(),
        )
        print(
            f"under cProfile: {res.rps:.0f} rps, p50 {res.lat_ms['p50']:.1f} ms, errors {res.error_count}, "
            f"CPU {res.gw_cpu_pct}%"
        )
        assert proc.popen is not None
        proc.popen.send_signal(signal.SIGTERM)
        proc.popen.wait(timeout=30)
    finally:
        stack.close()
    stats = pstats.Stats(str(out), stream=sys.stdout)
    stats.strip_dirs()
    print(f"\n== top {args.top} by own time ==")
    stats.sort_stats("tottime").print_stats(args.top)
    print(f"\n== top {args.top} by cumulative time ==")
    stats.sort_stats("cumulative").print_stats(args.top)
    print(f"profile saved to {out} (python -m pstats {Path(out).name})")
    return 0


def _spy(stack: Any, load: Any, supergraph: Path, body: Path, workload: str, seconds: int, top: int) -> int:
    """The router as served, sampled by py-spy while wrk drives it (50 connections)."""
    import shutil
    import subprocess

    from .common import BENCH_DIR, WORK, run_wrk

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: pip install -e '.[bench]'")
        return 2
    proc, url = stack.router(
        "router-spied", supergraph, cpus=load.gateway_cpus, env={"ROUTER_HEADERS__PROPAGATE": "[]"}
    )
    out = WORK / f"spy-router-{workload}.txt"
    argv = [spy, "record", "--format", "raw", "--nolineno", "--rate", "250", "-o", str(out), "-p", str(proc.pid)]
    samplers: list[subprocess.Popen[bytes]] = []

    def start_sampling() -> None:  # after warm-up and quiesce: only the measured load is sampled
        samplers.append(
            subprocess.Popen([*argv, "-d", str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )

    try:
        res = run_wrk(
            url,
            script=BENCH_DIR / "lua" / "post.lua",
            conns=50,
            duration_s=seconds,
            load=load,
            env={"BODY_FILE": str(body), "CHECK": "1", "UNIQUE_AUTH": "1"},
            watch=proc.pids(),
            before_run=start_sampling,
        )
        print(f"sampled by py-spy: {res.rps:.0f} rps, p50 {res.lat_ms['p50']:.1f} ms, errors {res.error_count}")
        samplers[0].wait(timeout=60)
    finally:
        for sampler in samplers:
            if sampler.poll() is None:
                sampler.terminate()
        stack.close()
    print_folded(out, top)
    return 0


def print_folded(path: Path, top: int) -> None:
    """Own and inclusive sample shares per function from py-spy's folded stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.split(" (")[0] + " (" + f.rsplit("/", 1)[-1] if " (" in f else f for f in stack.split(";")]
        own[frames[-1]] = own.get(frames[-1], 0) + n
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + n
    for title, counts in (("own", own), ("inclusive", inclusive)):
        print(f"\n== top {top} by {title} samples ({total} in all) ==")
        for frame, n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {n * 100 / max(total, 1):5.1f}%  {frame}")
    print(f"folded stacks saved to {path}")


if __name__ == "__main__":
    sys.exit(main())
