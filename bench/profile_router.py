"""Profile our router under the benchmark load.

    python -m bench.profile_router [dashboard|heavy|small|two|tariffs|edgecost] [--seconds N] [--spy]

``--spy``: the router runs unmodified (``python -m router serve``) and py-spy samples it from
outside (``pip install -e '.[bench]'``), which does not slow Python down as cProfile does; prints
the functions with the most samples on top of the stack (own) and anywhere on it (inclusive), and
keeps the folded stacks in ``bench/.work/spy-router-<workload>.txt`` (flame-graph input).

``edgecost`` (py-spy only): the edgecost section's two routers (every public-edge feature on, and
off) over its stub subgraph, under its load, sampled in alternating rounds; prints each router's
CPU milliseconds per request (steadier than req/s on a shared box) and, per function, the CPU-ms
per request it takes in each and the difference: where the edge features' cost goes.

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
        "workload",
        nargs="?",
        default="dashboard",
        choices=["dashboard", "heavy", "small", "two", "tariffs", "edgecost"],
    )
    parser.add_argument("--spy", action="store_true", help="sample with py-spy instead of cProfile")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2, help="edgecost: alternating rounds per router")
    parser.add_argument("--lines", action="store_true", help="edgecost: by source line, not by function")
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
    if args.workload == "edgecost":
        try:
            return _spy_edgecost(stack, load, args.seconds, args.rounds, args.top, lines=args.lines)
        finally:
            stack.close()
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


def _spy_edgecost(stack: Any, load: Any, seconds: int, rounds: int, top: int, *, lines: bool = False) -> int:
    """Both edgecost routers under the edgecost load, each sampled by py-spy; CPU-ms per request,
    in all and by function."""
    import shutil
    import subprocess

    from .common import BENCH_DIR, WORK, run_wrk
    from .edgecost import CONNS, edge_routers, wrk_env

    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("py-spy is not installed: pip install -e '.[bench]'")
        return 2
    _, routers, _ = edge_routers(stack, load)
    names = ["all off", "all on"]
    cpu_ms: dict[str, list[float]] = {n: [] for n in names}
    folded: dict[str, list[Path]] = {n: [] for n in names}
    for rnd in range(rounds):
        for name in names if rnd % 2 == 0 else list(reversed(names)):
            proc, url = routers[name]
            out = WORK / f"spy-edgecost-{name.replace(' ', '-')}-{rnd}.txt"
            argv = [
                spy,
                "record",
                "--format",
                "raw",
                *([] if lines else ["--nolineno"]),
                "--rate",
                "250",
                "-o",
                str(out),
            ]
            samplers: list[subprocess.Popen[bytes]] = []

            def start(argv: list[str] = argv, pid: int = proc.pid, samplers: list[Any] = samplers) -> None:
                samplers.append(
                    subprocess.Popen(
                        [*argv, "-p", str(pid), "-d", str(seconds)],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )

            res = run_wrk(
                url,
                script=BENCH_DIR / "lua" / "post.lua",
                conns=CONNS,
                duration_s=seconds,
                load=load,
                env=wrk_env(),
                watch=proc.pids(),
                before_run=start,
            )
            samplers[0].wait(timeout=60)
            per_request = (res.gw_cpu_pct or 0.0) * 10 / max(res.rps, 1e-9)  # % of a core / (req/s) -> ms
            cpu_ms[name].append(per_request)
            folded[name].append(out)
            print(
                f"  round {rnd + 1} {name}: {res.rps:.0f} req/s, router CPU {res.gw_cpu_pct}%, "
                f"{per_request:.3f} CPU-ms/request, errors {res.error_count}"
            )
    from statistics import median

    ms = {n: median(v) for n, v in cpu_ms.items()}
    print(
        f"\nCPU-ms per request (median of {rounds}): off {ms['all off']:.3f}, on {ms['all on']:.3f}, "
        f"on/off {ms['all on'] / ms['all off']:.3f}x (throughput at equal CPU: {ms['all off'] / ms['all on']:.3f}x)"
    )
    shares = {n: _folded_shares(folded[n]) for n in names}
    for title in ("inclusive", "own"):
        rows: dict[str, tuple[float, float]] = {}
        off_share, on_share = shares["all off"][title], shares["all on"][title]
        for frame in set(off_share) | set(on_share):
            rows[frame] = (off_share.get(frame, 0.0) * ms["all off"], on_share.get(frame, 0.0) * ms["all on"])
        print(f"\n== top {top} by {title} CPU-ms/request, on minus off (off, on, diff in µs/request) ==")
        for frame, (off, on) in sorted(rows.items(), key=lambda kv: -(kv[1][1] - kv[1][0]))[:top]:
            print(f"  {off * 1000:7.1f} {on * 1000:7.1f} {(on - off) * 1000:+7.1f}  {frame}")
    print(f"folded stacks saved to {WORK}/spy-edgecost-*.txt")
    return 0


def _folded_counts(paths: list[Path]) -> tuple[dict[str, int], dict[str, int], int]:
    """Per function, the samples on top of the stack (own) and anywhere on it, and all samples."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            total += n
            frames = [_frame_name(f) for f in stack.split(";")]
            own[frames[-1]] = own.get(frames[-1], 0) + n
            for frame in set(frames):
                inclusive[frame] = inclusive.get(frame, 0) + n
    return own, inclusive, total


def _folded_shares(paths: list[Path]) -> dict[str, dict[str, float]]:
    """Per function, the share of all samples (0..1) on top of the stack (own) and anywhere on it."""
    own, inclusive, total = _folded_counts(paths)
    total = max(total, 1)
    return {
        "own": {f: n / total for f, n in own.items()},
        "inclusive": {f: n / total for f, n in inclusive.items()},
    }


def _frame_name(frame: str) -> str:
    return frame.split(" (")[0] + " (" + frame.rsplit("/", 1)[-1] if " (" in frame else frame


def print_folded(path: Path, top: int) -> None:
    """Own and inclusive sample shares per function from py-spy's folded stacks."""
    own, inclusive, total = _folded_counts([path])
    for title, counts in (("own", own), ("inclusive", inclusive)):
        print(f"\n== top {top} by {title} samples ({total} in all) ==")
        for frame, n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {n * 100 / max(total, 1):5.1f}%  {frame}")
    print(f"folded stacks saved to {path}")


if __name__ == "__main__":
    sys.exit(main())
