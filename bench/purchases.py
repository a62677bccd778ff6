"""Section 5 — purchases: end-to-end ``purchaseToken`` through the router at 50 and 200 connections.

The whole system (router, users, master, transactions, biller) runs on every core, once on SQLite
and once on PostgreSQL. Load: wrk (``lua/purchase.lua``) with fresh client references spread over
20 freshly signed-up customers (wallets topped up) and the active demo meters of 2,200 VA and more,
weighted by their monthly kWh caps (so no cap is hit); every 10th request replays an earlier
request verbatim. "New purchases/s" is read from the database (SUCCESS purchases under the run's
references; the warm-up uses other references). After each
backend, the database is checked: no client reference stored twice, no purchase debited twice,
every wallet balance equal to its ledger sum (and the admin ``walletReconciliation`` agrees).

PostgreSQL: ``--postgres-url`` / ``$SETRUM_BENCH_POSTGRES_URL`` (an admin URL; one database per
service is created), else a throw-away cluster in ``bench/.work/pg`` when ``initdb`` exists
(run as the ``postgres`` user when we are root), else the backend is skipped with a message.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
import uuid
from typing import Any

import httpx

from . import hops
from .common import (
    BENCH_DIR,
    CLK_TCK,
    NO_RATE_LIMITS,
    WORK,
    Load,
    Report,
    cpu_count,
    cpu_ticks,
    free_port,
    run_wrk,
    table,
    tree,
)
from .stack import Stack, sign_in

__all__ = ["postgres_system", "run"]

CONCURRENCY = (50, 200)
CUSTOMERS = 20
TOP_UP = "50000000"
DENOMINATION = "20000"
# Issue 17: purchases per second on 2 cores, 0 errors, duplicate checks clean.
TARGETS_RPS = {"sqlite": 450, "postgres": 350}
SERVICES = ("users", "master", "transactions", "biller")


def _gql(url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers, timeout=60)
    body = r.json()
    if body.get("errors"):
        raise RuntimeError(f"{query.split('(')[0]}: {body['errors'][0].get('message')}")
    return body["data"]


def _meters() -> list[str]:
    """Active demo meters, each listed once per 1,100 VA of power, so that purchases (chosen
    uniformly from the list) spread in proportion to each meter's monthly kWh cap (VA x 0.72):
    ~12,000 purchases of Rp 20,000 fit before the first cap, room for two runs at 300+/s."""
    from setrum_common.demo_data import METERS

    chosen = [m for m in METERS if m.status == "ACTIVE" and m.power_va >= 2200 and m.sts_base_date != 1993]
    return [m.number for m in chosen for _ in range(m.power_va // 1100)]


def _customers(url: str, run_id: str, count: int = CUSTOMERS, top_ups: int = 1) -> list[str]:
    """``count`` fresh customers, each signed up and its wallet topped up ``top_ups`` times with :data:`TOP_UP`
    (the most one top-up may be); their tokens."""
    tokens = []
    for i in range(count):
        data = _gql(
            url,
            """mutation Up($i: SignUpInput!) { signUp(input: $i) { token } }""",
            {
                "i": {
                    "name": f"Bench Buyer {i}",
                    "email": f"bench-{run_id}-{i}@example.id",
                    "password": "bench-Strong-pass-2026!",
                    "phone": None,
                }
            },
        )
        token = data["signUp"]["token"]
        for k in range(top_ups):
            _gql(
                url,
                "mutation T($a: Decimal!, $r: String!) { topUpWallet(amount: $a, paymentReference: $r) { balance } }",
                {"a": TOP_UP, "r": f"bench-{run_id}-{i}" + (f"-{k}" if k else "")},
                token,
            )
        tokens.append(token)
    return tokens


async def _sold(url: str, reference_prefix: str) -> int:
    """SUCCESS purchases stored under client references that start with ``reference_prefix``."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            sql = "SELECT COUNT(*) FROM tx_purchase WHERE status = 'SUCCESS' AND client_reference LIKE :prefix"
            return int((await conn.execute(text(sql), {"prefix": reference_prefix + "%"})).scalar() or 0)
    finally:
        await engine.dispose()


async def _db_checks(url: str) -> dict[str, Any]:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:

            async def scalar(sql: str) -> Any:
                return (await conn.execute(text(sql))).scalar()

            return {
                "bench_purchases": await scalar(
                    "SELECT COUNT(*) FROM tx_purchase WHERE client_reference LIKE 'bench-%'"
                ),
                "by_status": dict(
                    (
                        await conn.execute(
                            text(
                                "SELECT status, COUNT(*) FROM tx_purchase "
                                "WHERE client_reference LIKE 'bench-%' GROUP BY status"
                            )
                        )
                    ).all()
                ),
                "duplicate_references": await scalar(
                    "SELECT COUNT(*) FROM (SELECT customer_id, client_reference FROM tx_purchase "
                    "GROUP BY customer_id, client_reference HAVING COUNT(*) > 1) d"
                ),
                "purchases_debited_twice": await scalar(
                    "SELECT COUNT(*) FROM (SELECT purchase_id FROM tx_ledger_entry WHERE kind = 'PURCHASE_DEBIT' "
                    "GROUP BY purchase_id HAVING COUNT(*) > 1) d"
                ),
                "wallets_not_matching_ledger": await scalar(
                    "SELECT COUNT(*) FROM tx_wallet w WHERE w.balance <> (SELECT COALESCE(SUM(l.amount), 0) "
                    "FROM tx_ledger_entry l WHERE l.customer_id = w.customer_id)"
                ),
            }
    finally:
        await engine.dispose()


class _Postgres:
    """A throw-away local PostgreSQL cluster (initdb) in bench/.work/pg; stopped at the end."""

    def __init__(self) -> None:
        self.dir = WORK / "pg"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def start(self) -> str:
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(WORK, 0o755)
        data = self.dir / "data"
        subprocess.run(
            [*self.as_user, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on"
        subprocess.run(
            [*self.as_user, "pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(
            [*self.as_user, "pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"], capture_output=True
        )


def _postgres_databases(admin_url: str) -> dict[str, str]:
    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    suffix = uuid.uuid4().hex[:8]

    async def create() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            for s in SERVICES:
                await conn.execute(f'CREATE DATABASE "bench_{s}_{suffix}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return {
        s: url.set(drivername="postgresql+asyncpg", database=f"bench_{s}_{suffix}").render_as_string(
            hide_password=False
        )
        for s in SERVICES
    }


def _backend(name: str, system: Any, db_url: str, load: Load, report: Report) -> dict[str, Any]:
    run_id = uuid.uuid4().hex[:6]
    url = system.router_url
    t0 = time.monotonic()
    tokens = _customers(url, run_id)
    meters = _meters()
    print(
        f"    {name}: {len(tokens)} customers signed up and topped up, "
        f"{len(set(meters))} meters (weighted by their caps) ({time.monotonic() - t0:.0f}s)",
        flush=True,
    )
    all_pids = [p.pid for p in system.processes.values()]
    script = BENCH_DIR / "lua" / "purchase.lua"
    out: dict[str, Any] = {}
    full = Load(**{**vars(load), "load_cpus": f"0-{cpu_count() - 1}"})
    for conns in CONCURRENCY:
        env = {
            "TOKENS": ",".join(tokens),
            "METERS": ",".join(meters),
            "DENOMINATION": DENOMINATION,
            "RUN_ID": f"{run_id}c{conns}",
            "REPLAY_EVERY": "10",
        }
        before = {n: cpu_ticks(tree(p.pid)) for n, p in system.processes.items()}
        t0 = time.monotonic()
        tracing = hops.LimitTrace(hops.hop_urls(system, ("router", "transactions")), every_s=1.0)
        with tracing:
            res = run_wrk(
                url,
                script=script,
                conns=conns,
                duration_s=load.duration_s,
                load=full,
                env=env,
                watch=all_pids,
                warmup_s=min(2, load.warmup_s),
                timeout_s=30,
                # the warm-up's references must not come back as the run's (they would be cheap replays)
                warmup_env={"RUN_ID": f"{env['RUN_ID']}w"},
            )
        # per-service CPU over warm-up + quiesce + run: where the time goes (profiling hint)
        spent = time.monotonic() - t0
        cpu_by_service = {
            n: round((cpu_ticks(tree(p.pid)) - before[n]) * 100 / CLK_TCK / spent, 1)
            for n, p in system.processes.items()
        }
        replays = res.extra.get("replays", 0)
        secs = res.requests / res.rps if res.rps else 1
        # What the run sold, read from the database: wrk counts answers, and a refused replay or a refused
        # new purchase both look like one request less sold.
        new = asyncio.run(_sold(db_url, f"bench-{env['RUN_ID']}-"))
        d = {
            "conns": conns,
            "requests": res.requests,
            "rps": res.rps,
            "purchases_per_s": new / secs,
            "replays": replays,
            "p50_ms": res.lat_ms["p50"],
            "p99_ms": res.lat_ms["p99"],
            "errors": res.errors,
            "error_count": res.error_count,
            "system_cpu_pct": res.gw_cpu_pct,
            "cpu_pct_by_service": cpu_by_service,
            "error_samples": res.extra.get("error_samples", []),
        }
        out[f"c{conns}"] = d
        print(
            f"    {name} c={conns}: {res.rps:.0f} req/s ({d['purchases_per_s']:.0f} new purchases/s + replays), "
            f"p50 {res.lat_ms['p50']:.0f} ms, p99 {res.lat_ms['p99']:.0f} ms, errors {res.error_count}; "
            f"CPU % by service {cpu_by_service}",
            flush=True,
        )
        print(
            f"      limits (r: router, t: transactions; limit/in flight/waiting/purchase baseline ms): {tracing.text()}"
        )
        if res.error_count:
            for sample in res.extra.get("error_samples", [])[:3]:
                print(f"      error body: {sample[:240]}")
            report.fail(f"purchases/{name} c={conns}: {res.error_count} errors ({res.errors})")
    time.sleep(1.0)
    checks = asyncio.run(_db_checks(db_url))
    admin = sign_in_admin(url)
    recon = _gql(url, "{ walletReconciliation { ok walletsChecked } }", token=admin)["walletReconciliation"]
    checks["wallet_reconciliation"] = recon
    out["checks"] = checks
    print(f"    {name} checks: {checks}")
    bad = checks["duplicate_references"] or checks["purchases_debited_twice"] or checks["wallets_not_matching_ledger"]
    if bad or not recon.get("ok"):
        report.fail(f"purchases/{name}: duplicate charge check failed: {checks}")
    return out


def sign_in_admin(url: str) -> str:
    from setrum_common.demo_data import ADMIN, DEMO_PASSWORD

    try:
        data = _gql(
            url,
            "mutation S($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }",
            {"e": ADMIN.email, "p": DEMO_PASSWORD},
        )
        return data["signIn"]["token"]
    except RuntimeError as exc:
        from setrum_common.auth import Role, issue_customer_token
        from setrum_common.settings import DEV_JWT_SECRET

        print(f"    WARNING: admin sign-in failed ({exc}); minting a development admin token")
        return issue_customer_token(os.environ.get("SETRUM_JWT_SECRET", DEV_JWT_SECRET), ADMIN.id, Role.ADMIN)[0]


def postgres_system(
    stack: Stack, admin_url: str, name: str = "system-postgres", env: dict[str, str] | None = None
) -> Any:
    """The whole system (``setrum.launcher.System``) on fresh PostgreSQL databases, one per service, started."""
    from setrum.launcher import System, SystemPorts

    data = WORK / name
    shutil.rmtree(data, ignore_errors=True)
    system = System(
        data,
        ports=SystemPorts.free(),
        database_urls=_postgres_databases(admin_url),
        log_dir=data / "logs",
        router_supergraph=stack.supergraph(),
        extra_env={"ROUTER_LOG_LEVEL": "WARNING", **NO_RATE_LIMITS, **(env or {})},
    )
    system.start(timeout_s=120)
    return system


def run(stack: Stack, load: Load, report: Report, postgres_url: str | None = None) -> None:
    out: dict[str, Any] = {"denomination": DENOMINATION, "customers": CUSTOMERS}
    rows = []
    # SQLite: the shared system, unpinned.
    system = stack.system()
    all_cpus = f"0-{cpu_count() - 1}"
    stack.pin_system({n: all_cpus for n in ("router", "users", "master", "transactions", "biller")})
    sqlite_url = f"sqlite+aiosqlite:///{system.data_dir / 'transactions.db'}"
    out["sqlite"] = _backend("SQLite", system, sqlite_url, load, report)
    stack.close()  # free the cores and memory for PostgreSQL

    pg: _Postgres | None = None
    admin_url = postgres_url or os.environ.get("SETRUM_BENCH_POSTGRES_URL")
    if not admin_url and shutil.which("initdb") and shutil.which("pg_ctl"):
        pg = _Postgres()
        try:
            admin_url = pg.start()
            print(f"    started a throw-away PostgreSQL on port {pg.port}", flush=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            print(f"    could not start a local PostgreSQL ({exc}); skipping PostgreSQL")
            pg, admin_url = None, None
    try:
        if admin_url:
            pg_system = postgres_system(stack, admin_url)
            urls = pg_system.database_urls
            stack.extra_pids = [p.pid for p in pg_system.processes.values()]
            try:
                sign_in(pg_system.router_url)
                out["postgres"] = _backend("PostgreSQL", pg_system, urls["transactions"], load, report)
            finally:
                stack.extra_pids = []
                pg_system.stop()
        else:
            print("  SKIP PostgreSQL: no --postgres-url / SETRUM_BENCH_POSTGRES_URL and no local initdb")
    finally:
        if pg is not None:
            pg.stop()
    for backend in ("sqlite", "postgres"):
        for d in out.get(backend, {}).values():
            if isinstance(d, dict) and "conns" in d:
                rows.append(
                    [
                        backend,
                        d["conns"],
                        f"{d['rps']:.0f}",
                        f"{d['purchases_per_s']:.0f}",
                        d["replays"],
                        f"{d['p50_ms']:.0f}",
                        f"{d['p99_ms']:.0f}",
                        d["error_count"],
                    ]
                )
    print(table(rows, ["database", "conns", "req/s", "new purchases/s", "replays", "p50 ms", "p99 ms", "errors"]))
    for backend, target in TARGETS_RPS.items():
        # Answered purchase requests only: a run that was refused (OVERLOADED) served no purchase.
        measured = [
            d["rps"]
            for d in out.get(backend, {}).values()
            if isinstance(d, dict) and "conns" in d and not d.get("error_count")
        ]
        if not measured:
            print(f"  target: purchases >= {target}/s on {backend}: not measured")
            continue
        best = max(measured)
        ok = best >= target
        print(
            f"  target: purchases >= {target}/s on {backend} ({cpu_count()} cores): {best:.0f}/s = "
            f"{best / target:.2f}x of target -> {'OK' if ok else 'MISSED'}"
        )
        if not ok:
            report.fail(f"purchases on {backend} {best:.0f}/s (target >= {target}/s)")
    report.section("purchases", out)
