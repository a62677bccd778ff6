"""Profile the purchase path: ``python -m bench.profile_purchases [--seconds N] [--conns N] [--no-spy]``

Starts the real system on SQLite (same launcher as ``setrum dev``), signs up and tops up the bench
customers, then drives ``purchaseToken`` through the router with wrk while ``py-spy`` (when it is
installed) samples every service. Prints requests per second and the CPU milliseconds each process
spent per purchase, which is the figure that decides purchase throughput on a small machine; the
flame data goes to ``bench/.work/spy-<service>.txt`` (collapsed stacks, ``--format raw``).

On PostgreSQL it also prints, per service database, what the server counted over the measured run
(``pg_stat_database``): connections opened (pool churn: each is a server process and a handshake)
and transactions committed or rolled back per request (a lone statement in autocommit is one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from .common import BENCH_DIR, CLK_TCK, WORK, cpu_ticks, tree
from .purchases import DENOMINATION, _customers, _meters, postgres_system
from .stack import Stack
from .throughput import round_trips

__all__ = ["main"]

DATABASE_SERVICES = ("users", "master", "transactions", "biller")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_purchases")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--conns", type=int, default=50)
    parser.add_argument("--no-spy", action="store_true", help="only the CPU-per-purchase figures")
    parser.add_argument(
        "--postgres-url",
        help="run the system on PostgreSQL (an admin URL; a database per service is created) instead of SQLite",
    )
    args = parser.parse_args(argv)

    stack = Stack()
    pg_system = None
    try:
        if args.postgres_url:
            system = pg_system = postgres_system(stack, args.postgres_url, "profile-postgres")
        else:
            system = stack.system()
        url = system.router_url
        run_id = uuid.uuid4().hex[:6]
        tokens = _customers(url, run_id)
        env = {
            "TOKENS": ",".join(tokens),
            "METERS": ",".join(_meters()),
            "DENOMINATION": DENOMINATION,
            "REPLAY_EVERY": "10",
        }
        script = BENCH_DIR / "lua" / "purchase.lua"
        wrk = ["wrk", "-t2", f"-c{args.conns}", "--timeout", "30s", "-s", str(script), url]
        subprocess.run([*wrk, "-d", "3s"], env={**os.environ, **env, "RUN_ID": run_id + "w"}, capture_output=True)
        spies: list[subprocess.Popen[bytes]] = []
        spy = (
            None
            if args.no_spy
            else shutil.which("py-spy", path=f"{os.path.dirname(sys.executable)}:{os.environ.get('PATH', '')}")
        )
        if spy:
            for name, proc in system.processes.items():
                out = WORK / f"spy-{name}.txt"
                spies.append(
                    subprocess.Popen(
                        [
                            spy,
                            "record",
                            "-p",
                            str(proc.pid),
                            "-d",
                            str(args.seconds + 1),
                            "-r",
                            "200",
                            "-f",
                            "raw",
                            "-o",
                            str(out),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        trips_before = round_trips(system, DATABASE_SERVICES)
        pg_before = _pg_counters(args.postgres_url, system.database_urls) if args.postgres_url else {}
        before = {n: cpu_ticks(tree(p.pid)) for n, p in system.processes.items()}
        threads_before = {n: _thread_ticks(p.pid) for n, p in system.processes.items()}
        t0 = time.monotonic()
        done = subprocess.run(
            [*wrk, "-d", f"{args.seconds}s"],
            env={**os.environ, **env, "RUN_ID": run_id},
            capture_output=True,
            text=True,
        )
        spent = time.monotonic() - t0
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
        result = json.loads(line[len("RESULT ") :])
        requests = max(1, result["requests"])
        print(
            f"{result['rps']:.0f} req/s, p50 {result['lat_ms']['p50']:.0f} ms, p99 {result['lat_ms']['p99']:.0f} ms, "
            f"errors {result['errors']}"
        )
        for line in [ln for ln in done.stderr.splitlines() if ln.startswith("ERRBODY ")][:3]:
            print("  error body:", line[len("ERRBODY ") :][:240])
        for name, proc in system.processes.items():
            ms = (cpu_ticks(tree(proc.pid)) - before[name]) * 1000 / CLK_TCK / requests
            print(f"  {name:13s} {ms:5.2f} ms CPU per request")
            after = _thread_ticks(proc.pid)
            for tid, (comm, ticks) in sorted(after.items()):
                spent_ms = (ticks - threads_before[name].get(tid, (comm, 0))[1]) * 1000 / CLK_TCK / requests
                if spent_ms >= 0.05:
                    print(f"      thread {comm:16s} {spent_ms:5.2f} ms")
        print(f"  (over {spent:.1f} s, {requests} requests)")
        trips_after = round_trips(system, DATABASE_SERVICES)
        # Per answered request: a refusal (OVERLOADED on a busy machine) reaches no database.
        answered = max(1, requests - sum(v for v in result["errors"].values() if isinstance(v, int)))
        print(
            f"  database round trips per answered request ({answered}; each service's /metrics; "
            "a BEGIN adds a COMMIT too):"
        )
        for name in DATABASE_SERVICES:
            statements, begins = (trips_after[name][i] - trips_before[name][i] for i in (0, 1))
            print(
                f"    {name:13s} statements {statements / answered:5.2f}, transactions with their own BEGIN "
                f"{begins / answered:5.2f}"
            )
        if args.postgres_url:
            time.sleep(1.0)  # backends report their counters when idle, at most once a second
            pg_after = _pg_counters(args.postgres_url, system.database_urls)
            print("  PostgreSQL, per request (pg_stat_database over the run):")
            for name, (sessions, commits, rollbacks) in sorted(pg_after.items()):
                s0, c0, r0 = pg_before.get(name, (0, 0, 0))
                print(
                    f"    {name:13s} connections opened {(sessions - s0) / requests:5.3f}, "
                    f"transactions {(commits - c0) / requests:5.2f} committed + {(rollbacks - r0) / requests:5.2f} "
                    "rolled back"
                )
        for s in spies:
            try:
                s.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.send_signal(signal.SIGINT)
        if spy:
            print(f"  py-spy stacks: {WORK}/spy-<service>.txt")
    finally:
        if pg_system is not None:
            pg_system.stop()
        stack.close()
    return 0


def _pg_counters(admin_url: str, database_urls: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """(connections opened, transactions committed, rolled back) per service database, from the server."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    names = {make_url(u).database: service for service, u in database_urls.items()}
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def read() -> dict[str, tuple[int, int, int]]:
        conn = await asyncpg.connect(dsn)
        try:
            rows = await conn.fetch(
                "SELECT datname, sessions, xact_commit, xact_rollback FROM pg_stat_database "
                "WHERE datname = ANY($1::text[])",
                list(names),
            )
        finally:
            await conn.close()
        return {names[r["datname"]]: (r["sessions"], r["xact_commit"], r["xact_rollback"]) for r in rows}

    return asyncio.run(read())


def _thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """utime + stime of each thread of ``pid`` (where the CPU goes: event loop vs driver threads)."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(task.name)] = (comm, int(fields[11]) + int(fields[12]))
    return out


if __name__ == "__main__":
    raise SystemExit(main())
