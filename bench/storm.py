"""Section storm — purchases offered faster than the system can sell them, at a fixed arrival rate.

Closed-loop load (wrk, the purchases section) slows down with the server, so it never shows what a
storm does. Here the load is open-loop: request i leaves at ``i / rate`` seconds whether or not the
earlier ones were answered, so queueing shows honestly. The run:

1. capacity: 50 clients buying back to back for the measured time; capacity = SUCCESS purchases/s;
2. storm: purchases offered at 3x and 10x that capacity for ``--duration`` seconds (default 15;
   the issue's figure is 60: ``--duration 60``), each answered purchase (any status) counted as
   admitted, each 503 / ``OVERLOADED`` as refused;
3. recovery: right after each storm, offered at 0.8x capacity for 10 s; recovery = the first second
   whose goodput reaches 90 % of that offer;
4. invariants: after the settlement worker's time, nothing PENDING, no reference stored twice, no
   purchase debited twice, every wallet equal to its ledger, and the biller's record equal to ours.

Reported per storm: offered/s (what the generator achieved; it is a Python process on the same
cores, so at 10x it may fall short and says so), goodput (SUCCESS/s) as a share of capacity, p99 of
admitted and of refused requests, errors, recovery seconds. Targets (issue 13): goodput >= 90 % of
capacity, admitted p99 <= 1 s, refused p99 <= 50 ms, recovery <= 5 s, zero money/token errors.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from .common import NO_RATE_LIMITS, Load, Report, cpu_count, table
from .purchases import _customers, _db_checks, _gql, _meters, _postgres_databases, sign_in_admin
from .stack import Stack

__all__ = ["run"]

FACTORS = (3, 10)
CAPACITY_CLIENTS = 50
RECOVERY_S = 10
RECOVERY_SHARE = 0.8
SETTLE_WAIT_S = 60
BUY = (
    "mutation B($m: String!, $d: Decimal!, $r: String!) "
    "{ purchaseToken(meterNumber: $m, denomination: $d, clientReference: $r) { id status } }"
)


@dataclass
class StormAnswer:
    sent_at: float  # seconds since the start of the run
    latency_s: float
    kind: str  # success | admitted (answered, not SUCCESS) | refused | error


@dataclass
class Run:
    offered_per_s: float
    seconds: float
    outcomes: list[StormAnswer] = field(default_factory=list)

    def of(self, kind: str) -> list[StormAnswer]:
        return [o for o in self.outcomes if o.kind == kind]

    def goodput(self) -> float:
        """SUCCESS purchases answered within the run's window, per second (later answers do not count)."""
        return sum(1 for o in self.of("success") if o.sent_at + o.latency_s <= self.seconds) / self.seconds

    def p99_ms(self, *kinds: str) -> float | None:
        latencies = sorted(o.latency_s for o in self.outcomes if o.kind in kinds)
        if not latencies:
            return None
        return latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000

    def recovery_s(self, target_per_s: float) -> float | None:
        """The first whole second in which SUCCESS purchases reached ``target_per_s``."""
        for second in range(int(self.seconds)):
            done = sum(1 for o in self.of("success") if second <= o.sent_at < second + 1)
            if done >= target_per_s:
                return float(second + 1)
        return None


def _classify(response: httpx.Response) -> str:
    if response.status_code == 503:
        return "refused"
    try:
        body = response.json()
    except ValueError:
        return "error"
    codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
    if "OVERLOADED" in codes:
        return "refused"
    purchase = (body.get("data") or {}).get("purchaseToken")
    if purchase is None:
        return "error"
    return "success" if purchase["status"] == "SUCCESS" else "admitted"


class Buyers:
    """Fresh references over the bench customers and meters (spread as the purchases section does)."""

    def __init__(self, url: str, tokens: list[str], meters: list[str]) -> None:
        self.url, self.tokens, self.meters = url, tokens, meters
        self.run_id = uuid.uuid4().hex[:6]
        self.n = 0

    async def buy(self, http: httpx.AsyncClient) -> tuple[float, str]:
        self.n += 1
        i = self.n * 7919
        variables = {"m": self.meters[i % len(self.meters)], "d": "20000", "r": f"bench-storm-{self.run_id}-{self.n}"}
        headers = {"authorization": f"Bearer {self.tokens[i % len(self.tokens)]}"}
        started = time.monotonic()
        try:
            response = await http.post(self.url, json={"query": BUY, "variables": variables}, headers=headers)
            kind = _classify(response)
        except httpx.HTTPError:
            kind = "error"
        return time.monotonic() - started, kind


async def _capacity(buyers: Buyers, seconds: float) -> float:
    """SUCCESS purchases per second with CAPACITY_CLIENTS clients buying back to back."""
    stop = time.monotonic() + seconds
    sold = 0

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sold
        while time.monotonic() < stop:
            _, kind = await buyers.buy(http)
            sold += kind == "success"

    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=CAPACITY_CLIENTS)) as http:
        await asyncio.gather(*(client(http) for _ in range(CAPACITY_CLIENTS)))
    return sold / seconds


async def _open_loop(buyers: Buyers, rate: float, seconds: float) -> Run:
    """Request i leaves at i / rate s, answered or not; returns every outcome."""
    run = Run(offered_per_s=0.0, seconds=seconds)
    limits = httpx.Limits(max_connections=2000, max_keepalive_connections=500)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        start = time.monotonic()
        tasks = []

        async def one(at: float) -> None:
            lag = time.monotonic() - start - at  # the generator's own delay counts against the latency
            latency, kind = await buyers.buy(http)
            run.outcomes.append(StormAnswer(at, latency + max(0.0, lag), kind))

        i = 0
        while (at := i / rate) < seconds:
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at)))
            i += 1
        sent_for = time.monotonic() - start
        await asyncio.gather(*tasks)
    run.offered_per_s = i / max(sent_for, seconds)
    return run


async def _pending_left(db_url: str, within_s: float) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db_url)
    try:
        give_up = time.monotonic() + within_s
        while True:
            async with engine.connect() as conn:
                left = (
                    await conn.execute(text("SELECT COUNT(*) FROM tx_purchase WHERE status IN ('PENDING', 'REVIEW')"))
                ).scalar_one()
            if not left or time.monotonic() > give_up:
                return int(left)
            await asyncio.sleep(1.0)
    finally:
        await engine.dispose()


def _backend(name: str, system: Any, db_url: str, load: Load, report: Report, duration_s: float) -> dict[str, Any]:
    url = system.router_url
    tokens = _customers(url, uuid.uuid4().hex[:6])
    buyers = Buyers(url, tokens, _meters())
    capacity = asyncio.run(_capacity(buyers, max(5.0, load.duration_s)))
    print(f"    {name}: capacity {capacity:.0f} purchases/s ({CAPACITY_CLIENTS} closed-loop clients)", flush=True)
    out: dict[str, Any] = {"capacity_per_s": capacity}
    for factor in FACTORS:
        storm = asyncio.run(_open_loop(buyers, capacity * factor, duration_s))
        recovery = asyncio.run(_open_loop(buyers, capacity * RECOVERY_SHARE, RECOVERY_S))
        d: dict[str, Any] = {
            "factor": factor,
            "offered_per_s": round(storm.offered_per_s),
            "goodput_per_s": round(storm.goodput()),
            "goodput_share": round(storm.goodput() / capacity, 3) if capacity else None,
            "admitted": len(storm.of("success")) + len(storm.of("admitted")),
            "refused": len(storm.of("refused")),
            "errors": len(storm.of("error")),
            "p99_admitted_ms": storm.p99_ms("success", "admitted"),
            "p99_refused_ms": storm.p99_ms("refused"),
            "recovery_s": recovery.recovery_s(capacity * RECOVERY_SHARE * 0.9),
        }
        out[f"x{factor}"] = d
        print(
            f"    {name} {factor}x: offered {d['offered_per_s']}/s, goodput {d['goodput_per_s']}/s "
            f"({(d['goodput_share'] or 0) * 100:.0f}% of capacity), admitted p99 {d['p99_admitted_ms'] or 0:.0f} ms, "
            f"refused {d['refused']} (p99 {d['p99_refused_ms'] or 0:.0f} ms), errors {d['errors']}, "
            f"recovery {d['recovery_s']} s",
            flush=True,
        )
        if d["offered_per_s"] < 0.9 * capacity * factor:
            print(f"      (the generator reached only {d['offered_per_s']}/s of the {capacity * factor:.0f}/s asked)")
        _targets(f"{name} {factor}x", d, report)
    checks = asyncio.run(_db_checks(db_url))
    checks["pending_after_settling"] = asyncio.run(_pending_left(db_url, SETTLE_WAIT_S))
    admin = sign_in_admin(url)
    checks["wallet_reconciliation"] = _gql(url, "{ walletReconciliation { ok } }", token=admin)["walletReconciliation"]
    day = (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()
    reconcile = "query($d: Date!) { billerReconciliation(date: $d) { ok lines { status count billerCount } } }"
    checks["biller_reconciliation"] = _gql(url, reconcile, {"d": day}, admin)["billerReconciliation"]
    out["checks"] = checks
    print(f"    {name} checks: {checks}", flush=True)
    if (
        checks["duplicate_references"]
        or checks["purchases_debited_twice"]
        or checks["wallets_not_matching_ledger"]
        or checks["pending_after_settling"]
        or not checks["wallet_reconciliation"]["ok"]
        or not checks["biller_reconciliation"]["ok"]
    ):
        report.fail(f"storm/{name}: money or token invariants broken: {checks}")
    return out


def _targets(label: str, d: dict[str, Any], report: Report) -> None:
    if (d["goodput_share"] or 0) < 0.9:
        report.fail(f"storm/{label}: goodput {d['goodput_share']} of capacity (target >= 0.9)")
    if (d["p99_admitted_ms"] or 0) > 1000:
        report.fail(f"storm/{label}: admitted p99 {d['p99_admitted_ms']:.0f} ms (target <= 1000)")
    if (d["p99_refused_ms"] or 0) > 50:
        report.fail(f"storm/{label}: refused p99 {d['p99_refused_ms']:.0f} ms (target <= 50)")
    if d["recovery_s"] is None or d["recovery_s"] > 5:
        report.fail(f"storm/{label}: recovery {d['recovery_s']} s (target <= 5)")


def run(stack: Stack, load: Load, report: Report, postgres_url: str | None = None) -> None:
    from setrum.launcher import System, SystemPorts

    from .common import WORK

    duration_s = float(os.environ.get("SETRUM_BENCH_STORM_S") or load.duration_s)
    print(
        f"  open loop: capacity, then {' and '.join(f'{f}x' for f in FACTORS)} of it for {duration_s:.0f}s each "
        f"(+{RECOVERY_S}s recovery at {RECOVERY_SHARE}x); {cpu_count()} cores shared by system and generator"
    )
    out: dict[str, Any] = {}
    system = stack.system()
    out["sqlite"] = _backend(
        "SQLite", system, f"sqlite+aiosqlite:///{system.data_dir / 'transactions.db'}", load, report, duration_s
    )
    stack.close()
    admin_url = postgres_url or os.environ.get("SETRUM_BENCH_POSTGRES_URL")
    if admin_url:
        urls = _postgres_databases(admin_url)
        data = WORK / "system-storm-postgres"
        pg_system = System(
            data,
            ports=SystemPorts.free(),
            database_urls=urls,
            log_dir=data / "logs",
            router_supergraph=stack.supergraph(),
            extra_env={"ROUTER_LOG_LEVEL": "WARNING", **NO_RATE_LIMITS},
        )
        pg_system.start(timeout_s=120)
        try:
            out["postgres"] = _backend("PostgreSQL", pg_system, urls["transactions"], load, report, duration_s)
        finally:
            pg_system.stop()
    else:
        print("  SKIP PostgreSQL: no --postgres-url / SETRUM_BENCH_POSTGRES_URL")
    rows = [
        [
            backend,
            f"{d['factor']}x",
            d["offered_per_s"],
            d["goodput_per_s"],
            f"{(d['goodput_share'] or 0) * 100:.0f}%",
            f"{d['p99_admitted_ms'] or 0:.0f}",
            d["refused"],
            f"{d['p99_refused_ms'] or 0:.0f}",
            d["errors"],
            d["recovery_s"],
        ]
        for backend, result in out.items()
        for key, d in result.items()
        if key.startswith("x")
    ]
    print(
        table(
            rows,
            [
                "database",
                "offer",
                "offered/s",
                "goodput/s",
                "of capacity",
                "p99 admitted ms",
                "refused",
                "p99 refused ms",
                "errors",
                "recovery s",
            ],
        )
    )
    report.section("storm", out)
