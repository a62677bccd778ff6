"""The adaptive concurrency limit (setrum_common/overload.py) under simulated storms.

A service with ``SERVERS`` requests' worth of parallelism, each request taking ``service_s`` of its own
once it starts (FIFO after that), then optionally ``downstream_s`` waiting on another service (which
does not occupy a server: a slow biller). Time is simulated (the limiter's clock), so the figures are
exact and the tests are quick. What is admitted must keep a latency near the service time (the queue
stays short) at full throughput; a slower service must be followed within seconds; and a downstream
that is slow but not overloaded must not shrink the limit at all.
"""

from __future__ import annotations

import asyncio
import heapq
import time

import pytest

from setrum_common.overload import AdaptiveLimiter, LimiterOptions

SERVERS = 4


class Simulation:
    def __init__(self, service_s: float, downstream_s: float = 0.0, *, probe_interval_s: float = 0.0) -> None:
        self.now = 0.0
        self.service_s = service_s
        self.downstream_s = downstream_s
        self.limiter = AdaptiveLimiter(
            LimiterOptions(
                initial_limit=64, min_limit=4, max_limit=512, queue_timeout_s=0.0, probe_interval_s=probe_interval_s
            ),
            clock=lambda: self.now,
        )
        self.free_at = [0.0] * SERVERS
        # (finish, started, downstream, kind, admitted under a baseline probe)
        self.running: list[tuple[float, float, float, str, bool]] = []
        self.done: list[tuple[float, float]] = []  # (finish, latency)
        self.refused = 0
        self.refused_at: list[float] = []

    async def offer(self, rate: float, seconds: float, kind: str = "purchaseToken") -> None:
        start = self.now
        for i in range(int(rate * seconds)):
            arrival = start + i / rate
            self._finish_until(arrival)
            self.now = arrival
            if not await self.limiter.acquire(priority=True):
                self.refused += 1
                self.refused_at.append(arrival)
                continue
            self._start(arrival, self.service_s, kind)
        self.now = start + seconds

    async def offer_mix(self, rate: float, seconds: float, mix: list[tuple[str, float]] | None) -> None:
        """Reads (not priority) at ``rate``: kinds and service times taken from ``mix`` in turn, or with
        None, each a kind of its own (a document never seen before) taking ``service_s``."""
        start = self.now
        for i in range(int(rate * seconds)):
            arrival = start + i / rate
            self._finish_until(arrival)
            self.now = arrival
            kind, service_s = mix[i % len(mix)] if mix else (f"read anonymous {i:08x}", self.service_s)
            if not await self.limiter.acquire(priority=False):
                self.refused += 1
                self.refused_at.append(arrival)
                continue
            self._start(arrival, service_s, kind)
        self.now = start + seconds

    def _finish_until(self, now: float) -> None:
        while self.running and self.running[0][0] <= now:
            finish, started, downstream, of_kind, probed = heapq.heappop(self.running)
            self.now = finish
            self.limiter.release(started, failed=False, elsewhere_s=downstream, kind=of_kind, probed=probed)

    def _start(self, arrival: float, service_s: float, kind: str) -> None:
        server = min(range(SERVERS), key=self.free_at.__getitem__)
        self.free_at[server] = max(arrival, self.free_at[server]) + service_s
        finish = self.free_at[server] + self.downstream_s
        probed = self.limiter.admitted_under_probe()
        heapq.heappush(self.running, (finish, arrival, self.downstream_s, kind, probed))
        self.done.append((finish, finish - arrival))

    def window(self, since: float, until: float) -> tuple[float, float]:
        """Completions per second and p99 latency of the requests finished in [since, until)."""
        latencies = sorted(latency for finish, latency in self.done if since <= finish < until)
        p99 = latencies[int(len(latencies) * 0.99)] if latencies else float("inf")
        return len(latencies) / (until - since), p99


async def test_a_storm_keeps_admitted_latency_near_the_service_time_at_full_throughput() -> None:
    sim = Simulation(service_s=0.010)  # capacity: 4 / 10 ms = 400/s
    await sim.offer(rate=4000, seconds=20)  # 10x
    throughput, p99 = sim.window(5, 20)
    assert throughput >= 0.9 * 400, throughput
    assert p99 <= 5 * sim.service_s, (p99, sim.limiter.limit)  # queueing without bound would be ~128x
    assert sim.refused > 0


async def test_a_storm_after_a_quiet_spell_is_contained_within_a_second() -> None:
    """The baseline was learnt while quiet; a sustained 3x storm never teaches it the queue."""
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=100, seconds=10)
    await sim.offer(rate=1200, seconds=60)
    throughput, p99 = sim.window(11, 70)
    assert throughput >= 0.9 * 400, throughput
    assert p99 <= 5 * sim.service_s, (p99, sim.limiter.limit)


class SharedLoopSimulation:
    """One event loop: every admitted request shares the CPU equally (processor sharing), so a storm
    that starts at once never shows one request the time it takes alone; ``service_s`` of CPU each."""

    def __init__(self, service_s: float, *, probe_interval_s: float) -> None:
        self.now = 0.0
        self.service_s = service_s
        self.limiter = AdaptiveLimiter(
            LimiterOptions(initial_limit=64, min_limit=2, max_limit=512, queue_timeout_s=0.0,
                           probe_interval_s=probe_interval_s),
            clock=lambda: self.now,
        )  # fmt: skip
        self.jobs: list[list[float]] = []  # [CPU left, started, admitted under a probe]
        self.done: list[tuple[float, float]] = []  # (finish, latency)

    def _advance(self, until: float) -> None:
        while self.jobs:
            share = 1 / len(self.jobs)
            job = min(self.jobs, key=lambda j: j[0])
            done_cpu = job[0]
            finish = self.now + done_cpu / share
            if finish > until:
                break
            for other in self.jobs:
                other[0] -= done_cpu
            self.now = finish
            self.jobs.remove(job)
            self.done.append((finish, finish - job[1]))
            self.limiter.release(job[1], failed=False, kind="purchaseToken", probed=bool(job[2]))
        share = 1 / len(self.jobs) if self.jobs else 0.0
        for job in self.jobs:
            job[0] -= (until - self.now) * share
        self.now = until

    async def _arrive(self) -> bool:
        """A request arrives now: admitted (it starts sharing the CPU) or refused (False)."""
        admitted = await self.limiter.acquire(priority=True)
        if admitted:
            self.jobs.append([self.service_s, self.now, float(self.limiter.admitted_under_probe())])
        return admitted

    async def offer(self, rate: float, seconds: float) -> None:
        start = self.now
        for i in range(int(rate * seconds)):
            self._advance(start + i / rate)
            await self._arrive()
        self._advance(start + seconds)

    async def closed_loop(self, clients: int, seconds: float, step_s: float = 0.0005) -> None:
        """``clients`` that each ask again as soon as they are answered (or refused: then at the next step)."""
        end = self.now + seconds
        while self.now < end:
            while len(self.jobs) < clients and await self._arrive():
                pass
            self._advance(self.now + step_s)

    def p99(self, since: float, until: float) -> float:
        latencies = sorted(latency for finish, latency in self.done if since <= finish < until)
        assert len(latencies) >= 0.9 * (until - since) / self.service_s, len(latencies)  # at 90 % of capacity
        return latencies[int(len(latencies) * 0.99)]


async def _storm_on_one_event_loop(probe_interval_s: float) -> float:
    """A 3x storm of 5 ms purchases from the first second: the p99 of what is admitted from 20 s to 40 s
    (which must be served at 90 % of capacity or more)."""
    sim = SharedLoopSimulation(service_s=0.005, probe_interval_s=probe_interval_s)
    await sim.offer(rate=600, seconds=40)
    return sim.p99(20, 40)


async def test_a_baseline_learnt_only_under_load_is_measured_again_with_few_in_flight() -> None:
    """On one event loop a storm that starts at once shows every request the time it takes with 64
    others. The baseline then comes down only as far as the luckiest samples (about 4x the real 5 ms),
    and requests queue 10 deep for good. A probe (at the limit's first use, then every 10 s) pins the
    limit to one for a dozen requests and learns what one takes alone."""
    assert await _storm_on_one_event_loop(probe_interval_s=10.0) <= 6 * 0.005
    assert await _storm_on_one_event_loop(probe_interval_s=0.0) > 8 * 0.005


async def test_a_first_probe_on_a_cold_service_is_taken_again_soon() -> None:
    """The first probe comes at the limit's first use, often in a service's first busy seconds (connections
    still opening): here a purchase takes 8 ms of CPU then, 2 ms once warm. The 8 ms baseline it learns is
    measured again about 5 s later, not a whole probe interval (20 s) later: in a storm every sample is a
    loaded one, and nothing else would bring it down."""
    sim = SharedLoopSimulation(service_s=0.008, probe_interval_s=20.0)
    await sim.offer(rate=200, seconds=2)  # cold: 125/s at most
    cold_baseline = sim.limiter.baselines()["purchaseToken"]
    sim.service_s = 0.002
    await sim.offer(rate=1500, seconds=10)  # a 3x storm on the warm service
    assert cold_baseline >= 0.006
    assert sim.limiter.baselines()["purchaseToken"] <= 2 * 0.002


async def test_a_cold_baseline_is_measured_again_even_when_the_limit_is_not_in_use() -> None:
    """A storm from cold: 8 ms a purchase then (2 ms warm), and the first probe, at the limit's first use,
    measures nothing (what is in flight does not drain within its 0.3 s), so the baseline is a loaded
    sample. Then a few steady clients keep 3 requests in flight, 6 ms each on the shared loop: no sample
    shows the warm time, and the limit is soon more than twice what is in flight (not in use). The probes
    that follow a first one up (its retry, and the second measurement 5 s after the first) come all the
    same, so the next storm meets the warm baseline, not a probe overdue since the closed loop that pins
    the limit to one at its onset."""
    sim = SharedLoopSimulation(service_s=0.008, probe_interval_s=20.0)
    await sim.offer(rate=400, seconds=2)  # a storm from cold: 125/s at most
    assert sim.limiter.baselines()["purchaseToken"] >= 0.006
    sim.service_s = 0.002
    await sim.closed_loop(clients=3, seconds=10)
    assert sim.limiter.in_flight < sim.limiter.limit / 2  # the limit is not in use
    assert sim.limiter.baselines()["purchaseToken"] <= 1.5 * 0.002


async def test_a_limit_grown_on_a_cold_baseline_comes_down_to_what_queues_once_the_warm_one_is_measured() -> None:
    """As above, but 8 steady clients: each purchase takes 16 ms on the shared loop, 8 times its warm 2 ms, and the
    limit the cold start left (twice those 8) is not in use, so the gradient never looked at it. Once the second
    probe has measured the warm baseline, what is in flight is seen to queue and the limit comes down to it, where
    the gradient takes over: the next storm is admitted a few at a time, not twice a closed loop's worth at once."""
    sim = SharedLoopSimulation(service_s=0.008, probe_interval_s=20.0)
    await sim.offer(rate=400, seconds=2)  # a storm from cold
    sim.service_s = 0.002
    await sim.closed_loop(clients=8, seconds=12)
    assert sim.limiter.baselines()["purchaseToken"] <= 1.5 * 0.002
    assert sim.limiter.limit < 8
    storm_at = sim.now
    await sim.offer(rate=1500, seconds=3)  # 3x
    latencies = sorted(latency for finish, latency in sim.done if storm_at <= finish < storm_at + 1)
    assert latencies[int(len(latencies) * 0.99)] <= 7.5 * 0.002  # with the limit left at 16: 15 times the 2 ms


async def test_behind_a_slow_downstream_probes_out_of_use_stop_after_a_few_tries() -> None:
    """A probe behind a 0.4 s biller measures nothing (what is in flight does not drain to one in 0.3 s),
    and its pin refuses what arrives meanwhile. While the limit is not in use (20 in flight of 64) only a
    few follow-up tries are made: a service that does not even need its limit must not be pinned every 2 s."""
    sim = Simulation(service_s=0.002, probe_interval_s=20.0)
    await sim.offer(rate=4000, seconds=1)  # a 2x burst: the limit in use, its first probe
    sim.downstream_s = 0.4
    refused_in_burst = sim.refused
    await sim.offer(rate=50, seconds=30)
    assert sim.limiter.in_flight < sim.limiter.limit / 2
    assert sim.refused > refused_in_burst  # the follow-up tries (5 s, then 2 s apart) pinned and refused
    # The second probe comes 5 s after the first (which ends within the 1 s burst), the follow-ups out of use
    # 2 s after the one before ends; each interval ±15 % and each probe up to 0.3 s: at the latest, when the
    # second probe still found the limit in use, the third follow-up ends at 1 + (5.75 + 0.3) + 3 × (2.3 + 0.3)
    # = 14.85 s. Nothing is pinned after that.
    assert [at for at in sim.refused_at if at >= 15] == []


async def test_when_the_service_itself_slows_down_the_limit_follows() -> None:
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=1200, seconds=10)  # 3x capacity
    sim.service_s = 0.020  # a slower database, say: capacity 200/s from now on
    await sim.offer(rate=600, seconds=15)
    throughput, p99 = sim.window(15, 25)
    assert throughput >= 0.9 * 200, (throughput, sim.limiter.limit)
    assert p99 <= 5 * sim.service_s, p99


async def test_below_capacity_nothing_is_refused() -> None:
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=300, seconds=20)  # 0.75x capacity
    assert sim.refused == 0
    throughput, _ = sim.window(2, 19)
    assert throughput >= 0.95 * 300


async def test_a_slow_but_healthy_downstream_sheds_nothing() -> None:
    """The biller slows from instant to 0.6 s (60x the service's own time) over a few seconds:
    200 purchases/s then need about 120 in flight. The limit grows to hold them; nothing is refused."""
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=200, seconds=10)
    for downstream_s in (0.05, 0.1, 0.2, 0.4, 0.6):
        sim.downstream_s = downstream_s
        await sim.offer(rate=200, seconds=3)
    await sim.offer(rate=200, seconds=10)
    assert sim.refused == 0, sim.limiter.limit
    throughput, p99 = sim.window(27, 35)
    assert throughput >= 0.95 * 200
    assert p99 <= 0.6 + 5 * sim.service_s


async def test_a_sudden_slow_downstream_costs_a_few_round_trips_of_refusals() -> None:
    """From instant to 0.5 s at once, 300/s: the limit (which kept twice what was in use) cannot know
    more is needed before the first slow answers; from then on it grows by half per round trip (the
    service shows no queue while requests are turned away), and nothing more is refused."""
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=300, seconds=10)
    sim.downstream_s = 0.5
    await sim.offer(rate=300, seconds=20)
    assert all(at < 10 + 5 * sim.downstream_s for at in sim.refused_at), sim.refused_at[-5:]
    throughput, p99 = sim.window(13, 30)
    assert throughput >= 0.95 * 300
    assert p99 <= 0.5 + 5 * sim.service_s


async def test_a_storm_behind_a_slow_downstream_still_keeps_the_queue_short() -> None:
    """The hardest case for a concurrency limit: 30x of each request's time is spent downstream, so
    the limit learns of its own queue a round trip late. It wobbles, but the queue stays a fraction
    of a second (unbounded, it would be tens of seconds) and throughput near capacity."""
    sim = Simulation(service_s=0.010, downstream_s=0.3)
    await sim.offer(rate=4000, seconds=20)
    throughput, p99 = sim.window(5, 20)
    assert throughput >= 0.8 * 400, throughput
    assert p99 <= 0.3 + 15 * sim.service_s, (p99, sim.limiter.limit)
    assert sim.refused > 0


async def test_a_fast_kind_of_request_does_not_make_a_slower_kind_look_queued() -> None:
    """Cheap reads (1 ms) and purchases (10 ms) each have their own baseline: busy but not queued,
    the limit does not shrink below what the purchases need."""
    sim = Simulation(service_s=0.001)
    await sim.offer(rate=1000, seconds=5, kind="other")
    sim.service_s = 0.010
    await sim.offer(rate=300, seconds=20)
    assert sim.refused == 0, sim.limiter.limit


async def test_cheap_and_heavy_reads_each_under_its_own_kind_are_not_refused_well_below_capacity() -> None:
    """Reads of 1 ms and 20 ms, half and half, at 60 % of capacity, probed as the services are. Each
    read operation is its own kind (``operation_kind``): nothing is refused and the limit stays up. As one
    kind (so they were learnt until 2026-12-05) the limit fell to 8 and about 200 reads were refused."""
    sim = Simulation(service_s=0.001, probe_interval_s=10.0)
    mix = [("read Tariffs 0001", 0.001), ("read Dashboard 0002", 0.020)]
    await sim.offer_mix(rate=0.6 * SERVERS / 0.0105, seconds=60, mix=mix)
    assert sim.refused == 0, sim.limiter.limit
    assert sim.limiter.limit >= 32


async def test_a_flood_of_documents_each_seen_once_is_still_contained() -> None:
    """Every read a document never seen before (literals inlined, say): a kind's first samples are judged
    against the shared baseline, not against themselves, so a 10x storm of them still shows its queue.
    Judged against itself each would show none: the limit went to its maximum and p99 to 96x the
    service time. At most 64 baselines are kept, whatever the clients send, and the purchases' stays."""
    sim = Simulation(service_s=0.010)
    await sim.offer(rate=100, seconds=2)  # purchases first: their baseline must outlive the flood
    await sim.offer_mix(rate=4000, seconds=20, mix=None)
    throughput, p99 = sim.window(5, 20)
    assert throughput >= 0.9 * 400, throughput
    assert p99 <= 5 * sim.service_s, (p99, sim.limiter.limit)
    assert sim.refused > 0
    assert len(sim.limiter.baselines()) <= 64
    assert "purchaseToken" in sim.limiter.baselines()


async def test_a_queue_draining_slower_than_its_room_assumed_refuses_newcomers_at_once() -> None:
    """The queue's room comes from an estimated drain rate; when the oldest waiter has already waited
    ``queue_timeout_s`` the estimate was too high, and a newcomer (who would wait longer still) is
    refused at once instead of being refused late or served after seconds."""
    now = 0.0
    limiter = AdaptiveLimiter(
        LimiterOptions(initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=0.5, max_queue=100),
        clock=lambda: now,
    )
    assert await limiter.acquire(priority=True)  # the only slot, held
    first = asyncio.create_task(limiter.acquire(priority=True))  # drain not known yet: room for 100
    await asyncio.sleep(0)
    now = 0.4
    second = asyncio.create_task(limiter.acquire(priority=True))  # the oldest has waited 0.4 s: still queued
    await asyncio.sleep(0)
    now = 0.6
    assert not await limiter.acquire(priority=True)  # the oldest has waited 0.6 s > 0.5 s: refused at once
    limiter.release(0.0, failed=False)
    assert await first
    limiter.release(0.0, failed=False)
    assert await second
    assert limiter.refused == 1


async def test_with_a_sojourn_factor_a_short_queue_still_takes_a_slightly_longer_closed_loop() -> None:
    """The router sizes its queue for 0.25 s of drain (few waiters outlive the late limit when the drain
    dips) but refuses newcomers only once the oldest has waited twice that: a closed loop whose clients
    wait 0.3 s is queued, and a stalled one is still refused at the door."""
    now = 0.0
    options = LimiterOptions(
        initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=0.25, sojourn_factor=2.0, max_queue=100
    )
    limiter = AdaptiveLimiter(options, clock=lambda: now)
    assert await limiter.acquire(priority=True)
    first = asyncio.create_task(limiter.acquire(priority=True))
    await asyncio.sleep(0)
    now = 0.3
    assert not limiter.refuse_at_once(priority=True)  # 0.3 s > 0.25 s, but under 2 x 0.25 s: queued
    second = asyncio.create_task(limiter.acquire(priority=True))
    await asyncio.sleep(0)
    now = 0.55
    assert limiter.refuse_at_once(priority=True)  # the oldest has waited 0.55 s: refused at once
    assert not await limiter.acquire(priority=True)
    for waiter in (first, second):
        limiter.release(0.0, failed=False)
        assert await waiter
    assert limiter.refused == 2


@pytest.mark.parametrize("factor", [1.5, 3.0])
async def test_a_waiter_is_refused_late_after_max_wait_factor_times_the_queue_time(factor: float) -> None:
    """A stalled drain (the only slot never comes back): a waiter that joined the queue is refused after
    ``max_wait_factor`` x ``queue_timeout_s``, neither at the queue time (the room is an estimate, a
    little off is no reason to refuse) nor never. The router uses 3 behind a 0.25 s queue (late at 0.75 s:
    with 2 behind a 0.5 s queue the storm's admitted p99 was 1.04-1.10 s)."""
    limiter = AdaptiveLimiter(
        LimiterOptions(initial_limit=1, min_limit=1, max_limit=1, queue_timeout_s=0.2, max_wait_factor=factor)
    )
    assert await limiter.acquire(priority=True)  # the only slot, never released
    started = time.monotonic()
    assert not await limiter.acquire(priority=True)
    waited = time.monotonic() - started
    assert factor * 0.2 - 0.01 <= waited < factor * 0.2 + 0.15, waited
    assert limiter.refused == 1


async def _limit_after_lag(floor_s: float) -> float:
    """30 requests at a time, each 1 ms of own time for 2 s, then 8 ms (the router's event loop busy
    refusing a storm): what the limit of 40 becomes."""
    now = 0.0
    limiter = AdaptiveLimiter(
        LimiterOptions(initial_limit=40, max_limit=40, queue_timeout_s=0.0, baseline_floor_s=floor_s),
        clock=lambda: now,
    )
    for own_s, rounds in ((0.001, 200), (0.008, 250)):
        for _ in range(rounds):
            started = now
            admitted = [await limiter.acquire(priority=True) for _ in range(30)]
            now += own_s
            for _ in range(sum(admitted)):
                limiter.release(started, failed=False)
    return limiter.limit


async def test_own_latencies_under_the_floor_never_count_as_a_queue() -> None:
    """A router's own share of a request is a millisecond or two; a few milliseconds of event-loop lag
    is not a queue its limit should shrink for (with no floor, the eightfold ratio shrank it)."""
    assert await _limit_after_lag(0.025) == 40
    assert await _limit_after_lag(0.0) < 30
