"""The overload limit in front of a real ASGI app, over HTTP (setrum_common/overload.py).

Open-loop load (request i leaves at i / rate s, answered or not), so queueing shows: a storm on a
one-at-a-time resource is refused fast with 503, Retry-After and OVERLOADED while what is admitted
keeps a short latency; a downstream service that is slow but not overloaded (reached through the
services' own HTTP client) is not mistaken for a queue, so nothing is refused. A closed loop (each
client waits for its answer before asking again, as wrk and real front ends do) is queued, never
refused: its line is only as long as it has clients.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from router.settings import OverloadSettings
from setrum_common.elsewhere import measured
from setrum_common.fastpath.http import HttpClient
from setrum_common.overload import (
    AdaptiveLimiter,
    Admission,
    LimiterOptions,
    OverloadMiddleware,
    learn_as,
    operation_kind,
)
from tests.fixtures.uvicorn_thread import serve_in_thread

PURCHASE = b'{"query": "mutation { purchaseToken(meterNumber: \\"1\\") { id } }"}'
READ = b'{"query": "{ purchases { id } }"}'


Endpoint = Callable[[Request], Awaitable[JSONResponse]]


def _limited(graphql: Endpoint, limiter: AdaptiveLimiter, **middleware_options: Any) -> Starlette:
    """``graphql`` at /graphql behind the overload middleware (``middleware_options`` are its own)."""
    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"])],
        middleware=[Middleware(OverloadMiddleware, admission=Admission(limiter=limiter, **middleware_options))],
    )


def _answering(handler: Callable[[], Awaitable[None]]) -> Endpoint:
    async def graphql(request: Request) -> JSONResponse:
        await handler()
        return JSONResponse({"data": {"purchaseToken": {"id": "1"}}})

    return graphql


def _app(handler: Callable[[], Awaitable[None]], options: LimiterOptions) -> Starlette:
    return _limited(_answering(handler), AdaptiveLimiter(options))


async def _open_loop(
    app: Starlette, rate: float, seconds: float, body: bytes = PURCHASE
) -> list[tuple[float, float, httpx.Response]]:
    """(due at, latency from sending, response) of every request."""
    transport = httpx.ASGITransport(app=app)
    answers: list[tuple[float, float, httpx.Response]] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        start = time.monotonic()

        async def one(at: float) -> None:
            sent = time.monotonic()  # the server's part: this process's own lag in sending is not counted
            response = await client.post("/graphql", content=body)
            answers.append((at, time.monotonic() - sent, response))

        tasks = []
        i = 0
        while (at := i / rate) < seconds:
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(at)))
            i += 1
        await asyncio.gather(*tasks)
    return answers


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def test_a_storm_is_refused_fast_and_what_is_admitted_does_not_queue() -> None:
    """A resource that serves one request at a time in 20 ms (50/s), offered 250/s for 3 s. Queued
    without a limit, 600 requests would wait in line and the last about 12 s. With it, the line at the
    resource stays a few requests long and the excess is refused at once. (Absolute latencies are the
    bench's business: here one process is both the load and the server, so a busy machine stretches all.)"""
    lock = asyncio.Lock()
    line = 0
    longest_line = [0, 0]  # in the first second, after it

    async def one_at_a_time() -> None:
        nonlocal line
        line += 1
        after_first_second = time.monotonic() - started >= 1.0
        longest_line[after_first_second] = max(longest_line[after_first_second], line)
        async with lock:
            line -= 1
            await asyncio.sleep(0.020)

    app = _app(one_at_a_time, LimiterOptions(initial_limit=32, min_limit=2, max_limit=64, queue_timeout_s=0.02))
    started = time.monotonic()
    answers = await _open_loop(app, rate=250, seconds=3)
    # After the first second (the limit starts at 32, so the first requests do queue):
    refused = [(latency, r) for at, latency, r in answers if r.status_code == 503 and at >= 1.0]
    admitted = [latency for at, latency, r in answers if r.status_code == 200 and at >= 1.0]
    assert len(admitted) >= 10 and refused  # the resource kept serving what was admitted
    assert all(r.headers["retry-after"] == "1" for _, r in refused)
    assert {r.json()["errors"][0]["extensions"]["code"] for _, r in refused} == {"OVERLOADED"}
    assert longest_line[1] <= 16, longest_line  # a few on a quiet machine; unbounded: hundreds
    assert statistics.median(latency for latency, _ in refused) < statistics.median(admitted)
    assert _p99(admitted) < 6.0, _p99(admitted)  # ~0.1 s on a quiet machine, ~12 s without a limit


@pytest.mark.parametrize("probe_interval_s", [0.0, 1.0], ids=["no probe", "probing every second"])
async def test_a_slow_but_healthy_downstream_is_not_shed(probe_interval_s: float) -> None:
    """Each request asks a downstream service that turns from instant to 0.4 s: at 60/s about 24 are
    then in flight, well inside the limit of 40 unless it shrinks. Baselines that include the
    downstream (the average latency, or the lowest seen) took it for a queue and refused. A baseline probe
    pins the limit to one, but only for a fraction of a second (it gives up rather than wait out 0.4 s
    answers), and what arrives meanwhile waits in the queue."""
    delay = [0.0]

    async def downstream_answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay[0])
        return httpx.Response(200, json={"ok": True})

    downstream = HttpClient(transport=httpx.MockTransport(downstream_answer))

    async def ask_downstream() -> None:
        await downstream.post("http://biller.test/sell", b"{}")

    # Reads, with the router's queue for them (0.5 s): on a busy machine the scheduler's noise in the
    # requests' own time can still shrink the limit a little; what it then holds back waits its turn.
    options = LimiterOptions(
        initial_limit=40, min_limit=4, max_limit=40, queue_timeout_s=0.5, probe_interval_s=probe_interval_s
    )
    app = _app(ask_downstream, options)
    try:
        quiet = await _open_loop(app, rate=60, seconds=1, body=READ)
        delay[0] = 0.4
        slow = await _open_loop(app, rate=60, seconds=3, body=READ)
    finally:
        await downstream.aclose()
    statuses = [r.status_code for _, _, r in quiet + slow]
    assert statuses.count(503) == 0, statuses.count(503)
    assert min(latency for _, latency, _ in slow) >= 0.4


async def test_a_closed_loop_of_clients_is_queued_not_refused() -> None:
    """40 clients reading, each asking again as soon as it is answered (as wrk and front ends do), on
    a one-at-a-time resource of 2 ms of CPU, behind the router's defaults: the limit shrinks to what
    the resource holds without a queue, and the other clients wait in the limiter's queue (about
    40 x 2 ms, well inside its 0.5 s even on a starved machine) instead of being refused and asking
    again at once. (With a 30 ms queue: hundreds of 503s.)"""
    lock = asyncio.Lock()

    async def one_at_a_time() -> None:
        async with lock:
            await asyncio.to_thread(_burn, 0.002)

    app = _app(one_at_a_time, OverloadSettings().options())
    statuses: list[int] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        stop = time.monotonic() + 3.0

        async def client_loop() -> None:
            while time.monotonic() < stop:
                statuses.append((await client.post("/graphql", content=READ)).status_code)

        await asyncio.gather(*(client_loop() for _ in range(40)))
    assert len(statuses) >= 100, len(statuses)
    assert statuses.count(503) == 0, (statuses.count(503), len(statuses))


def _burn(seconds: float) -> None:
    """CPU work in a thread, as a database driver's: the process is busy, not waiting."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def test_with_a_long_queue_a_storm_is_still_refused_fast() -> None:
    """The router's queue holds what drains in 0.5 s (a closed loop needs that), yet a storm is refused
    fast: what does not fit is refused at once, and what fits is served, not refused after waiting
    (a queue that refused on a timeout answered the storm's refusals in 0.5 s). 250/s on 50/s."""
    lock = asyncio.Lock()

    async def one_at_a_time() -> None:
        async with lock:
            await asyncio.sleep(0.020)

    app = _app(one_at_a_time, LimiterOptions(initial_limit=8, queue_timeout_s=0.5))
    answers = await _open_loop(app, rate=250, seconds=3)
    refused = [latency for at, latency, r in answers if r.status_code == 503 and at >= 1.0]
    admitted = [latency for at, latency, r in answers if r.status_code == 200 and at >= 1.0]
    assert len(admitted) >= 10 and len(refused) >= 100, (len(admitted), len(refused))
    # at once (a busy machine adds its lag); refused on a timeout, many took 0.5 s
    assert statistics.median(refused) < 0.1, statistics.median(refused)
    assert _p99(refused) < 0.4, _p99(refused)


async def test_a_client_that_retries_at_once_is_slowed_by_the_refusal_delay() -> None:
    """wrk and naive retry loops ask again the moment they are refused; a refusal held 20 ms caps such
    a client at 50 refusals a second (unheld, one client spun thousands: the CPU the queue waited on)."""
    release = asyncio.Event()

    async def graphql(request: Request) -> JSONResponse:
        await release.wait()
        return JSONResponse({"data": {}})

    limiter = AdaptiveLimiter(LimiterOptions(initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=0.0))
    app = _limited(graphql, limiter, refusal_delay_s=0.02)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        holder = asyncio.create_task(client.post("/graphql", content=PURCHASE))
        await asyncio.sleep(0.05)  # the only slot is taken
        refusals: list[float] = []
        stop = time.monotonic() + 0.5
        while time.monotonic() < stop:
            sent = time.monotonic()
            response = await client.post("/graphql", content=PURCHASE)
            assert response.status_code == 503 and response.headers["retry-after"] == "1"
            refusals.append(time.monotonic() - sent)
        release.set()
        assert (await holder).status_code == 200
    assert 5 <= len(refusals) <= 26, len(refusals)
    assert min(refusals) >= 0.02


def _held_app(limiter: AdaptiveLimiter, seconds: float) -> Starlette:
    """A service answering after ``seconds``, whose answers say how long they queued."""
    return _limited(_answering(lambda: asyncio.sleep(seconds)), limiter, report_queued=True)


async def test_an_answer_says_how_long_its_request_waited_in_the_queue() -> None:
    """A service tells the caller how long a request sat in its overload queue (x-setrum-queued-ms);
    one admitted at once says nothing."""
    limiter = AdaptiveLimiter(LimiterOptions(initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=1.0))
    app = _held_app(limiter, 0.1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        first = asyncio.create_task(client.post("/graphql", content=PURCHASE))
        await asyncio.sleep(0.02)
        second = await client.post("/graphql", content=PURCHASE)
        assert "x-setrum-queued-ms" not in (await first).headers
    assert second.status_code == 200
    assert 50 <= int(second.headers["x-setrum-queued-ms"]) <= 1000


async def test_a_downstream_queue_shrinks_the_limit_in_front_of_it() -> None:
    """A service that can run 2 requests at once (20 ms each, 100/s) behind a caller whose limit is 40,
    offered 200/s: the service's queue grows with the caller's concurrency, so the caller counts that
    wait as its own and backs off, and the line forms (and is cut) at the caller, where refusing is
    cheap and early. Without the header the wait is "elsewhere" and the caller kept all 40 in flight,
    queued in the service for the service's whole queue time."""
    service_limiter = AdaptiveLimiter(LimiterOptions(initial_limit=2, min_limit=2, max_limit=2, queue_timeout_s=1.0))
    service = HttpClient(transport=httpx.ASGITransport(app=_held_app(service_limiter, 0.02)))

    async def ask_service() -> None:
        await service.post("http://transactions.test/graphql", PURCHASE)

    caller_limiter = AdaptiveLimiter(LimiterOptions(initial_limit=40, min_limit=2, max_limit=40, queue_timeout_s=1.0))
    caller = _limited(_answering(ask_service), caller_limiter)
    try:
        await _open_loop(caller, rate=200, seconds=2)
    finally:
        await service.aclose()
    assert caller_limiter.limit <= 10, caller_limiter.limit


async def _rounds_none_refused(graphql: Endpoint, bodies: list[bytes], *, per_round: int) -> AdaptiveLimiter:
    """Thirty rounds of ``per_round`` requests at once (``bodies`` in turn) to ``graphql`` behind a limit of
    40; every one must be answered 200. The limiter, for what it learnt."""
    limiter = AdaptiveLimiter(LimiterOptions(initial_limit=40, min_limit=2, max_limit=40, queue_timeout_s=0.0))
    app = _limited(graphql, limiter)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for round_ in range(30):
            answers = await asyncio.gather(
                *(client.post("/graphql", content=bodies[i % len(bodies)]) for i in range(per_round))
            )
            assert all(a.status_code == 200 for a in answers), (round_, limiter.limit)
    return limiter


async def test_replays_learnt_as_their_own_kind_do_not_make_purchases_look_queued() -> None:
    """A replay of a purchase costs a tenth of a new one. The service marks it (``learn_as``), so its
    latency goes to a baseline of its own: learnt as a purchase it dragged the purchase baseline to a
    replay's 1 ms, every new purchase then looked ten times queued, and the limit fell to its floor."""

    async def graphql(request: Request) -> JSONResponse:
        replay = b"replay" in await request.body()
        if replay:
            learn_as("purchaseToken replay")
        await asyncio.sleep(0.002 if replay else 0.02)  # no queue inside: every ratio is about 1
        return JSONResponse({"data": {}})

    replay = b'{"query": "mutation { purchaseToken(clientReference: \\"replay\\") { id } }"}'
    limiter = await _rounds_none_refused(graphql, [PURCHASE, PURCHASE, replay], per_round=30)
    assert limiter.limit >= 30, limiter.limit


async def test_each_read_operation_is_learnt_as_its_own_kind_so_heavy_reads_do_not_look_queued() -> None:
    """A dashboard read takes ten times a tariff lookup. Each read operation has a baseline of its own
    (its name and a digest of its document), so the heavy one is compared with itself. Learnt as one
    kind of read, the cheap one set the baseline, every heavy read looked ten times queued, and the limit
    of a service far from busy fell until reads were refused."""

    async def graphql(request: Request) -> JSONResponse:
        await asyncio.sleep(0.02 if b"Dashboard" in await request.body() else 0.002)  # no queue inside
        return JSONResponse({"data": {}})

    heavy = b'{"query": "query Dashboard($c: ID!) { customer(id: $c) { purchases { id } } }", "variables": {"c": "1"}}'
    cheap = b'{"query": "query Tariffs { tariffs { code } }"}'
    limiter = await _rounds_none_refused(graphql, [cheap, heavy, heavy], per_round=24)
    assert limiter.limit >= 30, limiter.limit
    kinds = set(limiter.baselines())
    assert {kind.split()[1] for kind in kinds if kind.startswith("read ")} == {"Dashboard", "Tariffs"}, kinds
    assert limiter.baselines()[next(k for k in kinds if k.startswith("read Dashboard"))] >= 0.015


@pytest.mark.parametrize(
    ("text", "query_string", "kind"),
    [
        (b'{"query": "query Tariffs { tariffs { code } }", "variables": {"a": 1}}', False, "Tariffs"),
        (b'{"query": "{ tariffs { code } }", "operationName": null}', False, "anonymous"),
        (b'{"query": "query Meters { meters { id } }", "operationName": "Named"}', False, "Named"),
        (b'{"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab12"}}, "operationName": "P"}', False, "P"),
        (b"query=query%20Meters%20%7B%20meters%20%7B%20id%20%7D%20%7D&operationName=Meters", True, "Meters"),
        (b'[{"query": "{ a }"}, {"query": "{ b }"}]', False, "other"),  # a batch names no one document
        (b"not json", False, "other"),
        (b'{"variables": {}}', False, "other"),
        (b"\xff\xfe", True, "other"),
    ],
)
def test_a_reads_kind_is_its_operation_name_and_a_digest_of_its_document(
    text: bytes, query_string: bool, kind: str
) -> None:
    learnt = operation_kind(text, query_string=query_string)
    assert learnt == "other" if kind == "other" else learnt.split()[:2] == ["read", kind]


def test_the_same_document_with_other_variables_is_one_kind_and_another_document_is_another() -> None:
    one = operation_kind(b'{"query": "query Q($a: Int) { x(a: $a) }", "variables": {"a": 1}}')
    assert one == operation_kind(b'{"query": "query Q($a: Int) { x(a: $a) }", "variables": {"a": 2}}')
    assert one != operation_kind(b'{"query": "query Q($a: Int) { y(a: $a) }", "variables": {"a": 1}}')


async def test_the_event_loop_lag_after_a_downstream_answered_counts_as_own_time() -> None:
    """The downstream answers at once, but this process's event loop is busy (another task holds it 50 ms
    at a time), so the answer waits to be read. Its wait on the downstream ends when the answer arrived;
    the lag after that is this process's own queueing. Counted as elsewhere it hid a saturated transactions
    from its own limit: 400 ms purchases, 2 ms of them downstream, and the limit kept growing."""

    async def answer(_: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    with serve_in_thread(Starlette(routes=[Route("/", answer, methods=["POST"])])) as url:
        client = HttpClient(fast=True)  # the owned pool notes when an answer's bytes arrived
        await client.post(url + "/", b"{}")  # a kept connection: the measured request sends at once
        busy = True

        async def hold_the_loop() -> None:
            while busy:
                time.sleep(0.05)
                await asyncio.sleep(0)

        with measured() as elsewhere:
            started = time.monotonic()
            holder = asyncio.create_task(hold_the_loop())
            await client.post(url + "/", b"{}")
            total = time.monotonic() - started
        busy = False
        await holder
        await client.aclose()
    own = total - elsewhere.not_queued_s
    assert total >= 0.09, total  # sent, then one 50 ms hold before the answer was seen, one more before it was read
    assert own >= 0.04, (own, total)
