"""Section storm — purchases offered faster than the system can sell them, at a fixed arrival rate.

Closed-loop load (wrk, the purchases section) slows down with the server, so it never shows what a
storm does. Here the load is open-loop: request i leaves at ``i / rate`` seconds whether or not the
earlier ones were answered, so queueing shows honestly. The run:

1. capacity: 50 clients buying back to back for 3 s, then 15 s counted; capacity = SUCCESS purchases/s
   (a refused client pauses 0.1 s, as a client honouring a short back-off would);
2. storm: purchases offered at 3x and 10x the capacity just measured for 60 s each (the issue's figure;
   ``SETRUM_BENCH_STORM_S`` overrides, ``--quick`` makes it 10 s), each answered purchase (any
   status) counted as admitted, each 503 / ``OVERLOADED`` as refused;
3. recovery: right after each storm, offered at 0.8x capacity for 6 s; recovery = the first second
   whose goodput reaches 90 % of that offer;
4. capacity again, after each storm's recovery (and so before the next storm). A storm's goodput is
   divided by the mean of the capacities measured just before and just after it: on a shared box the
   capacity of the same build moved by a quarter within minutes, and one figure taken a minute and a
   half before the 10x storm was a reading of the box then. Both capacities are printed; a storm that
   sells less than both is below its capacity whatever the box did;
5. rounds: steps 2-4 run ``--rounds`` times (3 by default, 1 with ``--quick``), 3x and 10x in turn. The goodput
   target is judged per offer on the median share of its rounds, the latency and recovery targets on every
   storm: the same build's 3x storms on PostgreSQL read 79 % and 97 % in two runs of one afternoon and 94-108 %
   in seven alternating rounds beside them, so one storm's share is a reading of the box as much as of the
   system. Every round's figures are printed;
6. invariants: after the settlement worker's time, nothing PENDING, no reference stored twice, no
   purchase debited twice, every wallet equal to its ledger, and the biller's record equal to ours.

All of it on SQLite, then on PostgreSQL when ``--postgres-url`` (or ``SETRUM_BENCH_POSTGRES_URL``)
names a server (fresh databases are made on it); ``SETRUM_BENCH_STORM_DATABASES=postgres`` (or ``sqlite``)
runs one of the two, for a quicker A/B, and ``SETRUM_BENCH_STORM_CAPACITY=N`` offers multiples of N
purchases/s instead of the capacities measured (which move with the box's noise by a quarter from
one run to the next), so that two builds are offered the same storm (then nothing is measured between
storms). The machine's load average is printed before,
after each storm and at the end: on a shared box other tenants' work is in every figure.

The storm and recovery load comes from a small C generator (``bench/loadgen/openloop.c``, built on
first use with the machine's C compiler, see ``bench/openloop.py``): latency counts from each request's
due time, and it takes a few percent of a core where a Python generator on these same two cores took
about one at 10x and put its own event-loop lag into the figures. Without a C compiler the Python
generator below still runs, and the output says so.

Reported per storm: offered/s (what the generator achieved; short of the asked rate it says so),
each service's CPU on a core and waiting for one (:mod:`bench.cpushare`; also per capacity), the box's
speed (:mod:`bench.boxspeed`; also per capacity) and the goodput share it implies at the capacities' speed,
goodput (SUCCESS/s) as a share of capacity, p99 of admitted and of refused requests, errors, requests
that found every allowed connection busy when due ("late"; the C generator only), the generator's own
CPU, recovery seconds. Targets (issue 13): goodput >= 90 % of capacity (the median of the rounds),
admitted p99 <= 1 s, refused p99 <= 50 ms, recovery <= 5 s, zero money/token errors.
"""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from setrum_common.fastpath.http import HttpAnswer, HttpClient

from . import hops, openloop
from .boxspeed import SpeedProbe
from .common import LOAD_POLICY, NO_RATE_LIMITS, Load, Report, cpu_count, generating_load, table
from .cpushare import CpuShare
from .purchases import _customers, _db_checks, _gql, _meters, _postgres_databases, sign_in_admin
from .stack import Stack

__all__ = ["run"]

FACTORS = (3, 10)
CAPACITY_CLIENTS = 50
CAPACITY_S = 15.0  # the box moves within seconds (alternating 15 s storms of one build sold 151-325/s within minutes)
CAPACITY_WARMUP_S = 3.0
REFUSED_PAUSE_S = 0.1
RECOVERY_S = 6
RECOVERY_SHARE = 0.8
STORM_S = 60.0  # the figure; SETRUM_BENCH_STORM_S overrides, --quick makes it 10
TARGETS = {"goodput_share": 0.9, "p99_admitted_ms": 1000.0, "p99_refused_ms": 50.0, "recovery_s": 5.0}
SETTLE_WAIT_S = 60
# Wallets for a quiet box's whole run: 20 customers' Rp 1 billion bought 44,440 purchases of Rp 22,500, and a
# 60 s SQLite storm at a capacity of 425/s ran them dry (INSUFFICIENT_BALANCE) in its last ten seconds.
STORM_CUSTOMERS = 60
# Each wallet takes about 2,200 purchases per top-up (Rp 50,000,000 at most each): one system's three rounds
# sold 133,000 on a fast box and emptied single top-ups (INSUFFICIENT_BALANCE counted as errors).
STORM_TOP_UPS = 5
MAX_CONNECTIONS = 4000  # the C generator's cap (the Python one keeps 2000); requests that find it reached are late
REQUEST_TIMEOUT_S = 30.0
# What the C generator looks for in each answer's body (router answers are compact JSON): bit k of a
# record's marks is MARKS[k]. classify_record turns status + marks into the storm's kinds.
MARKS = ("OVERLOADED", '"status":"SUCCESS"', '"purchaseToken":{')
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
    generator: str = "python"
    generator_cpu_s: float = 0.0  # the generator's own CPU time over the run (user + system)
    wall_s: float = 0.0
    late: int | None = None  # C generator: requests that waited because every allowed connection was busy
    generator_summary: dict[str, Any] = field(default_factory=dict)  # C generator: its totals (openloop.c)

    def generator_cpu_pct(self) -> float:
        """Over the whole run, answers waited for included."""
        return round(self.generator_cpu_s * 100 / self.wall_s, 1) if self.wall_s else 0.0

    def generator_us_per_request(self) -> float:
        return round(self.generator_cpu_s * 1e6 / len(self.outcomes), 1) if self.outcomes else 0.0

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

    def timeline(self) -> list[tuple[int, int, int]]:
        """(second, sold, refused) by the second the requests were due in: a limit that oscillates shows
        as seconds that sell nothing, which a minute's average hides."""
        seconds = int(self.seconds)
        sold, refused = [0] * seconds, [0] * seconds
        for o in self.outcomes:
            second = int(o.sent_at)
            if 0 <= second < seconds:
                sold[second] += o.kind == "success"
                refused[second] += o.kind == "refused"
        return [(i, sold[i], refused[i]) for i in range(seconds)]

    def recovery_s(self, target_per_s: float) -> float | None:
        """The first whole second in which SUCCESS purchases reached ``target_per_s``."""
        for second in range(int(self.seconds)):
            done = sum(1 for o in self.of("success") if second <= o.sent_at < second + 1)
            if done >= target_per_s:
                return float(second + 1)
        return None


def _timeline_text(timeline: list[tuple[int, int, int]]) -> str:
    return " ".join(f"{sold}/{refused}" for _, sold, refused in timeline)


def _classify(response: HttpAnswer) -> str:
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


def classify_record(record: openloop.Record) -> str:
    """The C generator's view of one answer, sorted as :func:`_classify` sorts a parsed one: 503 or an
    ``OVERLOADED`` error is refused; a purchase in the answer is success or admitted; anything else
    (no answer, or an answer without a purchase) is an error."""
    if record.error is not None:
        return "error"
    if record.status == 503 or record.marks & 1:
        return "refused"
    if record.marks & 2:
        return "success"
    return "admitted" if record.marks & 4 else "error"


class Buyers:
    """Fresh references over the bench customers and meters (spread as the purchases section does).

    Requests go out on the services' own keep-alive HTTP/1.1 client (``setrum_common/fastpath/http.py``, about
    a twentieth of httpx's CPU per request): the generator shares the cores with the system it loads, and at
    10x capacity httpx alone could not offer the rate."""

    def __init__(self, url: str, tokens: list[str], meters: list[str]) -> None:
        self.url, self.tokens, self.meters = url, tokens, meters
        self.run_id = uuid.uuid4().hex[:6]
        self.n = 0

    async def buy(self, http: HttpClient) -> tuple[float, str]:
        self.n += 1
        i = self.n * 7919
        variables = {"m": self.meters[i % len(self.meters)], "d": "20000", "r": f"bench-storm-{self.run_id}-{self.n}"}
        headers = {"authorization": f"Bearer {self.tokens[i % len(self.tokens)]}", "content-type": "application/json"}
        body = orjson.dumps({"query": BUY, "variables": variables})
        started = time.monotonic()
        try:
            kind = _classify(await http.post(self.url, body, headers))
        except httpx.HTTPError:
            kind = "error"
        return time.monotonic() - started, kind

    def templates(self) -> list[openloop.Template]:
        """The same requests for the C generator: one per (customer, meter) pair that :meth:`buy`'s spread
        visits, the clientReference numbered by the generator (``{{seq}}``, continuing ``self.n``)."""
        path = urlsplit(self.url).path or "/"
        out = []
        for k in range(math.lcm(len(self.tokens), len(self.meters))):
            i = k * 7919
            variables = {"m": self.meters[i % len(self.meters)], "d": "20000", "r": f"bench-storm-{self.run_id}-"}
            variables["r"] += openloop.SEQ
            headers = {
                "authorization": f"Bearer {self.tokens[i % len(self.tokens)]}",
                "content-type": "application/json",
            }
            out.append(openloop.Template("POST", path, headers, orjson.dumps({"query": BUY, "variables": variables})))
        return out


def _client(connections: int) -> HttpClient:
    return HttpClient(fast=True, timeout_s=30.0, max_connections=connections)


async def _capacity(buyers: Buyers, seconds: float) -> float:
    """SUCCESS purchases per second with CAPACITY_CLIENTS clients buying back to back. A client that is
    refused pauses REFUSED_PAUSE_S before its next purchase: 50 clients spinning on refusals measured the
    churn of refusing them (on a starved box the storms then sold up to 1.6x this "capacity")."""
    counted_from = time.monotonic() + CAPACITY_WARMUP_S  # the limits settle first
    stop = counted_from + seconds
    sold = 0

    async def client(http: HttpClient) -> None:
        nonlocal sold
        while time.monotonic() < stop:
            _, kind = await buyers.buy(http)
            sold += kind == "success" and time.monotonic() >= counted_from
            if kind == "refused":
                await asyncio.sleep(REFUSED_PAUSE_S)

    http = _client(CAPACITY_CLIENTS)
    try:
        await asyncio.gather(*(client(http) for _ in range(CAPACITY_CLIENTS)))
    finally:
        await http.aclose()
    return sold / seconds


def _measure_capacity(name: str, buyers: Buyers, pids: dict[str, int]) -> tuple[float, float | None]:
    """The capacity (purchases/s) and the box's speed meanwhile (:class:`SpeedProbe`'s ms per unit)."""
    with CpuShare(pids) as cpu, SpeedProbe() as probe:
        measured = asyncio.run(_capacity(buyers, CAPACITY_S))
    print(
        f"    {name}: capacity {measured:.0f} purchases/s ({CAPACITY_CLIENTS} closed-loop clients); "
        f"CPU on a core / waiting for one: {cpu.text()}; {_probe_text(probe)}",
        flush=True,
    )
    return measured, probe.unit_ms


def _probe_text(probe: SpeedProbe) -> str:
    return "box speed probe -" if probe.unit_ms is None else f"box speed probe {probe.unit_ms:.2f} ms per unit"


def _open_loop(generator: Path | None, buyers: Buyers, rate: float, seconds: float) -> Run:
    """Request i leaves at i / rate s, answered or not; returns every outcome. ``generator``: the C
    generator's binary, or None for the Python one."""
    if generator is None:
        cpu0, wall0 = time.process_time(), time.monotonic()
        run = asyncio.run(_open_loop_python(buyers, rate, seconds))
        run.generator_cpu_s, run.wall_s = time.process_time() - cpu0, time.monotonic() - wall0
        return run
    templates = buyers.templates()
    done = openloop.run(
        generator,
        buyers.url,
        templates,
        rate=rate,
        seconds=seconds,
        marks=MARKS,
        max_connections=MAX_CONNECTIONS,
        timeout_s=REQUEST_TIMEOUT_S,
        seq_start=buyers.n + 1,
    )
    buyers.n += len(done.records)
    summary = done.summary
    return Run(
        offered_per_s=summary["sent"] / max(summary["send_span_s"], seconds),
        seconds=seconds,
        outcomes=[StormAnswer(r.due_s, r.latency_s, classify_record(r)) for r in done.records],
        generator="c",
        generator_cpu_s=done.cpu_s,
        wall_s=summary["elapsed_s"],
        late=summary["late"],
        generator_summary=summary,
    )


async def _open_loop_python(buyers: Buyers, rate: float, seconds: float) -> Run:
    """The fallback generator (no C compiler): one asyncio task per request on the fast-path HTTP client."""
    run = Run(offered_per_s=0.0, seconds=seconds)
    http = _client(2000)
    try:
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
    finally:
        await http.aclose()
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


def _generator() -> Path | None:
    """The C generator, built now if needed; None (said in the output) without a C compiler, or when
    ``SETRUM_BENCH_STORM_GENERATOR=python`` asks for the Python one (to compare the two)."""
    if os.environ.get("SETRUM_BENCH_STORM_GENERATOR") == "python":
        print("  generator: Python asyncio (SETRUM_BENCH_STORM_GENERATOR=python); it shares the cores with the system")
        return None
    binary = openloop.build()
    if binary is None:
        print(
            "  generator: Python asyncio - no C compiler found (cc, gcc, clang), so the C generator cannot be "
            "built; this one shares the cores with the system and at 10x takes about one of them itself"
        )
    else:
        print(f"  generator: C open loop ({binary.relative_to(openloop.BENCH_DIR.parent)}), latency from due time")
    return binary


def _backend(
    name: str, system: Any, db_url: str, report: Report, duration_s: float, rounds: int, generator: Path | None
) -> dict[str, Any]:
    with generating_load():  # the load, like clients elsewhere, never preempts the system on waking
        return _storms(name, system, db_url, report, duration_s, rounds, generator)


def _storms(
    name: str, system: Any, db_url: str, report: Report, duration_s: float, rounds: int, generator: Path | None
) -> dict[str, Any]:
    url = system.router_url
    tokens = _customers(url, uuid.uuid4().hex[:6], STORM_CUSTOMERS, top_ups=STORM_TOP_UPS)
    buyers = Buyers(url, tokens, _meters())
    fixed = float(os.environ.get("SETRUM_BENCH_STORM_CAPACITY") or 0)
    pids = {n: system.processes[n].pid for n in ("router", "transactions", "master", "biller")}
    capacity, capacity_ms = (fixed, None) if fixed else _measure_capacity(name, buyers, pids)
    if fixed:
        print(f"    {name}: offering multiples of {capacity:.0f}/s (SETRUM_BENCH_STORM_CAPACITY)", flush=True)
    out: dict[str, Any] = {"capacity_per_s": capacity, "storms": []}
    hop_urls = hops.hop_urls(system)
    for round_no, factor in ((r, f) for r in range(1, rounds + 1) for f in FACTORS):
        before = hops.snapshot(hop_urls)
        traced = {n: hop_urls[n] for n in ("router", "transactions")}
        with hops.LimitTrace(traced) as limits, CpuShare(pids) as cpu, SpeedProbe() as probe:
            storm = _open_loop(generator, buyers, capacity * factor, duration_s)
        where = hops.breakdown(before, hops.snapshot(hop_urls))
        recovery = _open_loop(generator, buyers, capacity * RECOVERY_SHARE, RECOVERY_S)
        after, after_ms = (fixed, None) if fixed else _measure_capacity(name, buyers, pids)
        reference = (capacity + after) / 2  # the box's capacity around the storm (see the module's docstring)
        speed = _relative_speed(capacity_ms, after_ms, probe.unit_ms)
        d: dict[str, Any] = {
            "round": round_no,
            "factor": factor,
            "capacity_before_per_s": round(capacity),
            "capacity_after_per_s": round(after),
            "capacity_per_s": round(reference),
            "offered_per_s": round(storm.offered_per_s),
            "goodput_per_s": round(storm.goodput()),
            "goodput_share": round(storm.goodput() / reference, 3) if reference else None,
            "admitted": len(storm.of("success")) + len(storm.of("admitted")),
            "refused": len(storm.of("refused")),
            "errors": len(storm.of("error")),
            "late": storm.late,
            "generator": storm.generator,
            "generator_cpu_pct": storm.generator_cpu_pct(),
            "generator_us_per_request": storm.generator_us_per_request(),
            "generator_summary": storm.generator_summary,
            "p99_admitted_ms": storm.p99_ms("success", "admitted"),
            "p99_refused_ms": storm.p99_ms("refused"),
            "recovery_s": recovery.recovery_s(capacity * RECOVERY_SHARE * 0.9),
            "probe_ms": {"capacity_before": capacity_ms, "storm": probe.unit_ms, "capacity_after": after_ms},
            "box_speed_vs_capacities": speed,
        }
        out["storms"].append(d)
        print(
            f"    {name} {factor}x (round {round_no}): offered {d['offered_per_s']}/s, goodput {d['goodput_per_s']}/s "
            f"({(d['goodput_share'] or 0) * 100:.0f}% of capacity {d['capacity_per_s']}/s: "
            f"{d['capacity_before_per_s']} before, {d['capacity_after_per_s']} after), "
            f"admitted p99 {d['p99_admitted_ms'] or 0:.0f} ms, "
            f"refused {d['refused']} (p99 {d['p99_refused_ms'] or 0:.0f} ms), errors {d['errors']}, "
            f"late {d['late'] if d['late'] is not None else 'n/a'}, recovery {d['recovery_s']} s; "
            f"generator ({d['generator']}) {d['generator_cpu_pct']:.0f}% of a core, "
            f"{d['generator_us_per_request']:.0f} us CPU per request{_send_lag(storm)}",
            flush=True,
        )
        d["timeline"] = storm.timeline()
        print(f"      per second, sold/refused by sending second: {_timeline_text(d['timeline'])}", flush=True)
        d["hops"] = where
        d["limits"] = limits.samples
        legend = "r: router, t: transactions; limit/in flight/waiting/purchase baseline ms"
        print(f"      limits ({legend}): {limits.text()}", flush=True)
        d["cpu"] = {n: {"on_cpu": round(s.on_cpu, 3), "waiting": round(s.waiting, 3)} for n, s in cpu.shares.items()}
        d["box_busy"] = cpu.box_busy
        print(f"      CPU on a core / waiting for one: {cpu.text()}; {_probe_text(probe)}", flush=True)
        if speed is not None:
            print(
                f"      the box ran at {speed:.2f}x its speed during the capacities around it: at equal speed "
                f"the goodput would be {(d['goodput_share'] or 0) / speed * 100:.0f}% of capacity "
                "(a reading, not the target)",
                flush=True,
            )
        print("      where the time went (each process's histograms, the storm only):", flush=True)
        for line in where:
            print(f"        {line}", flush=True)
        d["load_average"] = _load_average()
        if d["offered_per_s"] < 0.9 * capacity * factor:
            why = f": {d['late']} requests waited for one of {MAX_CONNECTIONS} busy connections" if d["late"] else ""
            print(
                f"      (the generator reached only {d['offered_per_s']}/s of the {capacity * factor:.0f}/s asked{why})"
            )
        capacity, capacity_ms = after, after_ms  # the next storm: multiples of the capacity just before it
    out["goodput_share_median"] = goodput_medians(out["storms"])
    for miss in verdicts(name, out["storms"]):
        report.fail(miss)
    checks = asyncio.run(_db_checks(db_url))
    checks["pending_after_settling"] = asyncio.run(_pending_left(db_url, SETTLE_WAIT_S))
    admin = sign_in_admin(url)
    checks["wallet_reconciliation"] = _gql(url, "{ walletReconciliation { ok } }", token=admin)["walletReconciliation"]
    day = (datetime.now(UTC) + timedelta(hours=7)).date().isoformat()
    reconcile = "query($d: Date!) { billerReconciliation(date: $d) { ok lines { status count billerCount } } }"
    checks["biller_reconciliation"] = _gql(url, reconcile, {"d": day}, admin)["billerReconciliation"]
    out["checks"] = checks
    print(f"    {name} checks: {checks}", flush=True)
    if not _invariants_hold(checks):
        report.fail(f"storm/{name}: money or token invariants broken: {checks}")
    return out


def _relative_speed(before_ms: float | None, after_ms: float | None, storm_ms: float | None) -> float | None:
    """How fast the box ran during a storm relative to the capacities before and after it (>1: faster), from
    the probe's ms per unit (lower is faster); None without every reading."""
    if before_ms is None or after_ms is None or not storm_ms:
        return None
    return round((before_ms + after_ms) / 2 / storm_ms, 3)


def _send_lag(run: Run) -> str:
    """The C generator's own delay in sending (a descheduled generator, or a wait for a connection): it is
    in the latencies, so a large one is the generator's or the box's doing, not the system's."""
    g = run.generator_summary
    return f", send lag p99 {g['send_lag_p99_ms']:.0f} ms (max {g['send_lag_max_ms']:.0f})" if g else ""


def goodput_medians(storms: list[dict[str, Any]]) -> dict[str, float]:
    """Per offer (``"x3"``, ``"x10"``), the median goodput share of its rounds."""
    shares: dict[str, list[float]] = {}
    for d in storms:
        shares.setdefault(f"x{d['factor']}", []).append(d["goodput_share"] or 0.0)
    return {offer: round(statistics.median(values), 3) for offer, values in shares.items()}


def verdicts(name: str, storms: list[dict[str, Any]]) -> list[str]:
    """The targets missed. Latencies and recovery: every storm's. Goodput: per offer, the median share of its
    rounds: one storm's share compares it with capacities measured minutes apart on a box whose speed moves by
    a quarter meanwhile, so a single share is a reading of the box as much as of the system, and the median of
    several is the figure; each round's share is printed beside it."""
    missed = []
    for offer, share in goodput_medians(storms).items():
        if share < TARGETS["goodput_share"]:
            rounds = ", ".join(f"{d['goodput_share']}" for d in storms if f"x{d['factor']}" == offer)
            missed.append(
                f"storm/{name} {offer[1:]}x: median goodput {share} of capacity (rounds: {rounds}; target >= 0.9)"
            )
    for d in storms:
        label = f"storm/{name} {d['factor']}x round {d['round']}"
        if (d["p99_admitted_ms"] or 0) > TARGETS["p99_admitted_ms"]:
            missed.append(f"{label}: admitted p99 {d['p99_admitted_ms']:.0f} ms (target <= 1000)")
        if (d["p99_refused_ms"] or 0) > TARGETS["p99_refused_ms"]:
            missed.append(f"{label}: refused p99 {d['p99_refused_ms']:.0f} ms (target <= 50)")
        if d["recovery_s"] is None or d["recovery_s"] > TARGETS["recovery_s"]:
            missed.append(f"{label}: recovery {d['recovery_s']} s (target <= 5)")
    return missed


def _load_average() -> str:
    """The machine's 1/5/15-minute load averages: other tenants' work shows in every figure."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def _ratio(value: float | None, target: float, at_least: bool) -> str:
    """value against its target as a ratio, 'met' when on the right side."""
    if value is None:
        return "n/a"
    met = value >= target if at_least else value <= target
    return f"{value / target:.2f} {'met' if met else 'MISSED'}"


def _summary(out: dict[str, Any]) -> str:
    rows = []
    for backend, result in out.items():
        for d in result["storms"]:
            rows.append(
                [
                    backend,
                    f"{d['factor']}x #{d['round']}",
                    f"{d['offered_per_s']}/{d['capacity_per_s']}",
                    f"{(d['goodput_share'] or 0) * 100:.0f}%",
                    _ratio(d["goodput_share"], TARGETS["goodput_share"], at_least=True),
                    f"{d['p99_admitted_ms'] or 0:.0f}",
                    _ratio(d["p99_admitted_ms"], TARGETS["p99_admitted_ms"], at_least=False),
                    f"{d['refused']}",
                    f"{d['p99_refused_ms'] or 0:.0f}",
                    _ratio(d["p99_refused_ms"], TARGETS["p99_refused_ms"], at_least=False),
                    d["errors"],
                    "n/a" if d.get("late") is None else d["late"],
                    f"{d.get('generator', 'python')} {d.get('generator_cpu_pct', 0):.0f}%",
                    _ratio(d["recovery_s"], TARGETS["recovery_s"], at_least=False),
                ]
            )
    lines = [
        table(
            rows,
            [
                "database",
                "offer",
                "offered/capacity around per s",
                "goodput",
                "/ 90%",
                "p99 admitted ms",
                "/ 1000",
                "refused",
                "p99 refused ms",
                "/ 50",
                "errors",
                "late",
                "generator CPU",
                "recovery / 5 s",
            ],
        )
    ]
    for backend, result in out.items():
        for offer, share in result["goodput_share_median"].items():
            verdict = _ratio(share, TARGETS["goodput_share"], at_least=True)
            lines.append(
                f"  {backend} {offer[1:]}x: median goodput of the rounds {share * 100:.0f}% of capacity ({verdict})"
            )
    for backend, result in out.items():
        c = result.get("checks") or {}
        ok = _invariants_hold(c)
        lines.append(
            f"  {backend} money and tokens: {'OK' if ok else 'BROKEN'} - {c.get('bench_purchases')} purchases "
            f"{c.get('by_status')}, PENDING/REVIEW left {c.get('pending_after_settling')}, duplicate references "
            f"{c.get('duplicate_references')}, debited twice {c.get('purchases_debited_twice')}, wallets off their "
            f"ledger {c.get('wallets_not_matching_ledger')}, walletReconciliation "
            f"{(c.get('wallet_reconciliation') or {}).get('ok')}, billerReconciliation "
            f"{(c.get('biller_reconciliation') or {}).get('ok')}"
        )
    return "\n".join(lines)


def _invariants_hold(checks: dict[str, Any]) -> bool:
    return not (
        checks.get("duplicate_references")
        or checks.get("purchases_debited_twice")
        or checks.get("wallets_not_matching_ledger")
        or checks.get("pending_after_settling")
        or not (checks.get("wallet_reconciliation") or {}).get("ok")
        or not (checks.get("biller_reconciliation") or {}).get("ok")
    )


def run(stack: Stack, load: Load, report: Report, postgres_url: str | None = None) -> None:
    from setrum.launcher import System, SystemPorts

    from .common import WORK

    duration_s = float(os.environ.get("SETRUM_BENCH_STORM_S") or (10.0 if load.duration_s <= 5 else STORM_S))
    rounds = max(1, load.rounds)
    print(
        f"  open loop: {rounds} round(s) of capacity, then {' and '.join(f'{f}x' for f in FACTORS)} of it "
        f"for {duration_s:.0f}s each "
        f"(+{RECOVERY_S}s recovery at {RECOVERY_SHARE}x); {cpu_count()} cores shared by system and generator "
        f"(load under CPU policy {LOAD_POLICY}); load average before: {_load_average()}"
    )
    generator = _generator()
    databases = (os.environ.get("SETRUM_BENCH_STORM_DATABASES") or "sqlite,postgres").split(",")
    out: dict[str, Any] = {}
    if "sqlite" in databases:
        system = stack.system()
        out["sqlite"] = _backend(
            "SQLite",
            system,
            f"sqlite+aiosqlite:///{system.data_dir / 'transactions.db'}",
            report,
            duration_s,
            rounds,
            generator,
        )
        stack.close()
    admin_url = postgres_url or os.environ.get("SETRUM_BENCH_POSTGRES_URL")
    if "postgres" in databases and admin_url:
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
            out["postgres"] = _backend(
                "PostgreSQL", pg_system, urls["transactions"], report, duration_s, rounds, generator
            )
        finally:
            pg_system.stop()
    elif "postgres" in databases:
        print("  SKIP PostgreSQL: no --postgres-url / SETRUM_BENCH_POSTGRES_URL")
    print(f"  load average after: {_load_average()}")
    print(_summary(out))
    report.section("storm", out)
