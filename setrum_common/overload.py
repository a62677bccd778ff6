"""Overload protection: an adaptive concurrency limit with a short, bounded queue, in front of a service.

Queueing without bound is how a storm takes a server down: every request waits behind all the others
until they all time out. Instead, at most ``limit`` requests run at once, and the limit follows how
much the requests queue *inside* the service, as Netflix's concurrency-limits (Gradient2, Vegas) and
Envoy's adaptive concurrency filter do (docs/overload.md tells the design and what we took from each):

    ratio     = own latency / baseline own latency of that kind of request    (1: no queue)
    gradient  = clamp(tolerance / recent ratio, 0.5, 1)
    new limit = limit × gradient + √limit            (the √limit lets a little queue form)
    limit     = smoothed towards new limit, within [min_limit, max_limit]

*Own* latency is a request's time less what it spent waiting on another service or request
(:mod:`setrum_common.elsewhere`): a biller that is slow but not overloaded makes purchases slow, yet
more purchases at once do not make it slower, so it must not shrink our limit. The *baseline* is the
latency without a queue: a low-percentile tracker per kind of request (a purchase, a sign-in, each
read operation), which follows a faster sample quickly and rises only ``baseline_drift_per_s`` while nothing
faster is seen. It is not an average of what the service shows: an average learns a storm's
queueing as normal and lets latency creep to the deadline (measured: admitted p99 near 10 s). The
slow drift lets a lasting change of the service's own speed in, and the limit only changes while it
is in use (at least half of it in flight), so a quiet service learns its baseline and never shrinks
its limit (one whose requests queue at the concurrency it has brings the limit down to that concurrency).
On one event loop that is not enough (a storm that starts at once never shows a request
its unloaded time), so the services also probe, as Envoy does: now and then the limit is pinned to
one request for a fraction of a second and the baseline is measured again (``probe_interval_s``).

A request over the limit joins a bounded queue: it holds only as many as the slots that free up
within ``queue_timeout_s`` (the drain rate, at most ``max_queue``), and one that does not fit is
refused at once (HTTP 503 with ``Retry-After``, a GraphQL error with code ``OVERLOADED``). The drain
rate is an estimate; what the queue really does shows in its oldest waiter, so while that one has
already waited ``queue_timeout_s`` a newcomer is refused at once too (CoDel's sojourn time, used at
the door: a newcomer would wait at least as long). One that fits waits for its slot; only if the
drain stalls (``max_wait_factor`` times ``queue_timeout_s``) is it refused late.
So a storm's excess is refused fast, what is queued is served within about ``queue_timeout_s``, and
a closed loop of clients (each waits for its answer before asking again) is queued, never refused:
its line is no longer than its clients, which the queue holds.
Priority requests (purchases, sign-ins) may use the whole limit and are woken first; the others only
``low_priority_share`` of it, so heavy reads are shed before a purchase is.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import statistics
import time
import weakref
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import orjson
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .elsewhere import QUEUED_HEADER, measured

__all__ = [
    "OVERLOADED",
    "PRIORITY_MARKERS",
    "PRIORITY_SCAN_BYTES",
    "QUEUED_HEADER",
    "RETRY_AFTER_S",
    "REFUSAL_TICK_S",
    "AdaptiveLimiter",
    "Admission",
    "HeldRefusals",
    "LimiterOptions",
    "OverloadMiddleware",
    "Slot",
    "admission_of",
    "learn_as",
    "limiter_metrics",
    "operation_kind",
    "overloaded_body",
    "priority_marker",
    "refusal_headers",
]

OVERLOADED = "OVERLOADED"
RETRY_AFTER_S = 1
# Operations that move money or let a customer in go first; anything else (reads, reports) may wait.
PRIORITY_MARKERS = (b"purchaseToken", b"signIn", b"topUpWallet", b"settlePurchase")
PRIORITY_SCAN_BYTES = 16 * 1024
_EXEMPT_PATHS = frozenset({"/health", "/ready", "/metrics"})
_OTHER = "other"
_MAX_WINDOW_S = 1.0
# After the service behind refused, the limit grows back by √limit per window only (no slow start).
_SLOW_START_AFTER_BACKOFF_S = 5.0
_PROBE_RETRY_S = 2.0
# The first probe comes at the limit's first use, often a service's first busy seconds: connections still
# opening, caches cold. The second comes this soon after it, not a whole probe interval later.
_SECOND_PROBE_S = 5.0
_FOLLOW_UPS_OUT_OF_USE = 3
# A limit not in use comes down to what is in flight when that queues (see _learn) only from this many in
# flight: one or two slow requests on a quiet service are the service's speed, not a queue.
_SHRINK_UNUSED_FROM = 4
# Baselines kept at most (one per kind: the priority operations and each read operation seen); the read
# learnt least recently makes room (clients choose the documents; the priority kinds always stay). A kind is
# judged against its own baseline from its third sample on; before that against the shared "other" one
# (see AdaptiveLimiter._learn).
_MAX_KINDS = 64
_OWN_BASELINE_FROM = 3
_READ = "read "  # what a read operation's kind starts with (see operation_kind)
# A document's first named operation, for a read's kind (a label only: a match inside a string is harmless).
_OPERATION_NAME = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_QUEUED_HEADER_BYTES = QUEUED_HEADER.encode()
# Held refusals leave together, at most this long after their delay (see HeldRefusals).
REFUSAL_TICK_S = 0.004
# A request waiting for a slot: when it joined the queue, and what wakes it.
_Waiter = tuple[float, "asyncio.Future[None]"]


@dataclass(frozen=True, slots=True)
class LimiterOptions:
    initial_limit: int = 64
    min_limit: int = 2
    max_limit: int = 512
    queue_timeout_s: float = 0.5
    # A waiter still without a slot after this many queue_timeout_s is refused (late): the queue's room is
    # an estimate, and refusing at exactly queue_timeout_s refused a closed loop whenever it was a little off.
    max_wait_factor: float = 2.0
    # A newcomer is refused at once while the oldest waiter has waited this many queue_timeout_s (CoDel's
    # sojourn time at the door). Above 1 the queue may be sized short (few waiters past the late limit when
    # the drain dips) while a closed loop that waits a little longer than queue_timeout_s is still queued.
    sojourn_factor: float = 1.0
    max_queue: int = 256
    low_priority_share: float = 0.75
    tolerance: float = 2.0
    smoothing: float = 0.5
    update_interval_s: float = 0.1
    baseline_drift_per_s: float = 0.01
    backoff: float = 0.9
    # Own latencies are compared with at least this: a router's own share of a request is a millisecond or
    # two, and a few milliseconds of event-loop lag (refusing a storm's excess) would read as a tenfold queue.
    baseline_floor_s: float = 0.0
    # Re-measuring the baseline with few in flight (Envoy's minimum-RTT window): once the limit is first in
    # use, again 5 s later, then every probe_interval_s (±15 %) while it is in use (see _Probe.follows_up for
    # the ones that come out of use), the limit is pinned to probe_concurrency until
    # probe_samples requests admitted under the pin finished or probe_max_s passed (draining what was in
    # flight included: behind a slow biller the probe gives up rather than hold the limit at one for seconds);
    # their median own time becomes the baseline of their kind. 0: never (the router, whose own time is not
    # what queues).
    probe_interval_s: float = 0.0
    probe_concurrency: int = 1
    probe_samples: int = 12
    probe_max_s: float = 0.3


def priority_marker(text: bytes) -> str | None:
    """The priority operation the request text names (``"purchaseToken"`` ...), None for any other.
    A text over :data:`PRIORITY_SCAN_BYTES` never names one (ours are a few hundred bytes): scanning
    a flood of megabyte documents for the markers cost more than refusing them."""
    if len(text) > PRIORITY_SCAN_BYTES:
        return None
    for marker in PRIORITY_MARKERS:
        if marker in text:
            return marker.decode()
    return None


def operation_kind(text: bytes, *, query_string: bool = False) -> str:
    """The kind a read is learnt under: its operation (``operationName`` and a digest of its document, or
    of its persisted query's hash), so a heavy read is compared with itself and not with the cheapest
    read of the service. Learnt as one kind, a mix of reads whose own times differ twentyfold reads as a
    queue twenty deep, and a service at 60 % of its capacity shrank its limit and refused reads (the
    simulation in tests/common/test_overload_limiter.py). ``text`` is a POST body, or with
    ``query_string`` a GET's query string. What names no one document (a batch, a body that is not JSON,
    one over :data:`PRIORITY_SCAN_BYTES`) is ``"other"``."""
    if len(text) > PRIORITY_SCAN_BYTES:
        return _OTHER
    params: Any
    try:
        if query_string:
            params = {name: values[0] for name, values in parse_qs(text.decode("latin-1")).items()}
            params["extensions"] = orjson.loads(params["extensions"]) if "extensions" in params else None
        else:
            params = orjson.loads(text)
    except (ValueError, UnicodeDecodeError):
        return _OTHER
    if not isinstance(params, dict):
        return _OTHER
    query = params.get("query")
    document = query
    if not isinstance(document, str):
        extensions = params.get("extensions")
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        document = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(document, str):
            return _OTHER
    name = params.get("operationName")
    if not isinstance(name, str) or not name:
        named = _OPERATION_NAME.search(query) if isinstance(query, str) else None
        name = named.group(1) if named else "anonymous"
    digest = zlib.crc32(document.encode(errors="replace"))
    return f"{_READ}{name[:64]} {digest:08x}"  # a metric's label: kept short


def overloaded_body(message: str = "The service is overloaded; retry shortly") -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": OVERLOADED}}]})


class Slot:
    """One admitted request. ``failed`` stays True unless the caller saw an answer under 500.
    :meth:`finish` gives the slot back early (a streamed answer once it has started: a subscription
    must not hold a slot for its lifetime); later calls do nothing. ``kind`` is the baseline its
    latency is learnt under (see :func:`learn_as`)."""

    __slots__ = ("_finish", "failed", "kind")

    def __init__(self, finish: Callable[[Slot], None], kind: str | None = None) -> None:
        self.failed = True
        self.kind = kind
        self._finish: Callable[[Slot], None] | None = finish

    def finish(self) -> None:
        finish, self._finish = self._finish, None
        if finish is not None:
            finish(self)


_CURRENT_SLOT: ContextVar[Slot | None] = ContextVar("setrum_overload_slot", default=None)


def learn_as(kind: str) -> None:
    """Learn the running request's latency under ``kind`` instead of the kind its text named: a
    replay of a purchase is an index lookup, ten times cheaper than a new one, and learnt as a
    purchase it drags the purchase baseline down until every new purchase looks queued. Outside a
    limited request it does nothing."""
    slot = _CURRENT_SLOT.get()
    if slot is not None:
        slot.kind = kind


class _Baseline:
    """The latency of one kind of request without a queue: moves a quarter of the way to any faster
    sample (one lucky sample does not set it), rises by ``drift_per_s`` while none is seen."""

    __slots__ = ("at", "samples", "seconds")

    def __init__(self, seconds: float, at: float) -> None:
        self.seconds, self.at, self.samples = seconds, at, 0

    def learn(self, sample: float, now: float, drift_per_s: float) -> float:
        drifted = self.seconds * (1 + drift_per_s * max(0.0, now - self.at)) if sample > self.seconds else self.seconds
        self.seconds = drifted + 0.25 * (sample - drifted) if sample < drifted else drifted
        self.at = now
        self.samples += 1
        return self.seconds

    def reset(self, seconds: float, samples: int, now: float) -> None:
        """Measured afresh (a probe's median of ``samples``)."""
        self.seconds, self.at, self.samples = seconds, now, samples


class AdaptiveLimiter:
    """The gradient limit and its two wait queues; one per process (one event loop)."""

    def __init__(self, options: LimiterOptions | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options or LimiterOptions()
        self.limit = float(self.options.initial_limit)
        # A raised limit opens over the next round trip, not at once: in a storm every new slot is
        # taken the moment it opens, and a step would land as one burst (a queue) on the service.
        self._raise_from = self.limit
        self._raise_at = 0.0
        self._raise_over_s = 0.0
        self.in_flight = 0
        self.refused = 0
        self._clock = clock
        self._drain_per_s = 0.0  # how fast slots free up (see _queue_room); 0: not known yet
        self._baselines: dict[str, _Baseline] = {}
        self._window = _Window(clock(), 0.0)
        self._refused_downstream_at = -math.inf
        self._probe = _Probe()
        # Waiters as (queued at, future), oldest first: priority requests, then the others.
        self._waiting: tuple[deque[_Waiter], deque[_Waiter]] = (deque(), deque())

    def _cap(self, priority: bool) -> float:
        if self._probe.since is not None:
            return float(self.options.probe_concurrency)
        limit = self.limit
        if self._raise_from < limit:
            opened = (self._clock() - self._raise_at) / self._raise_over_s if self._raise_over_s > 0 else 1.0
            if opened >= 1:
                self._raise_from = limit
            else:
                limit = self._raise_from + (limit - self._raise_from) * opened
        return limit if priority else limit * self.options.low_priority_share

    @property
    def pressed(self) -> bool:
        """Whether a request may have to wait or be refused now: the slots a read may use are taken, or
        some wait. No clock is read: the HTTP server asks this of every request (see :class:`Admission`)."""
        return self.in_flight >= self.limit * self.options.low_priority_share or bool(
            self._waiting[0] or self._waiting[1]
        )

    def refuse_at_once(self, *, priority: bool) -> bool:
        """Whether :meth:`acquire` would refuse this request now, without a wait (counted as refused when
        so); False: it would be admitted or queued, so let :meth:`acquire` decide."""
        self._end_probe_if_due()
        if self.in_flight < self._cap(priority) and not self._waiting[0]:
            return False
        if not self._queue_full(self._waiting[0 if priority else 1], self._clock()):
            return False
        self._window.turned_away = True
        self.refused += 1
        return True

    async def acquire(self, *, priority: bool) -> bool:
        """Take a slot (waiting in a bounded queue, see :meth:`_queue_room`); False: refuse the request."""
        self._end_probe_if_due()
        if self.in_flight < self._cap(priority) and not self._waiting[0]:
            self.in_flight += 1
            return True
        self._window.turned_away = True
        queue = self._waiting[0 if priority else 1]
        now = self._clock()
        if self._queue_full(queue, now):
            self.refused += 1
            return False
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (now, future)
        queue.append(waiter)
        try:
            # The room was sized so this wait is about queue_timeout_s: a waiter is refused only when
            # slots stop freeing up (max_wait_factor times that), not when the estimate was merely a little off.
            max_wait_s = self.options.max_wait_factor * self.options.queue_timeout_s
            await asyncio.wait_for(asyncio.shield(future), timeout=max_wait_s)
            return True
        except TimeoutError:
            if future.done():  # granted at the last moment: keep the slot
                return True
            future.cancel()
            queue.remove(waiter)
            self.refused += 1
            return False

    def _end_probe_if_due(self) -> None:
        if self._probe.since is not None:
            self._end_probe_if_done()  # its time may be up though nothing finished (a slow downstream)
            self._wake()

    def _queue_full(self, queue: deque[_Waiter], now: float) -> bool:
        """No room for a newcomer in ``queue``, or its oldest has already waited the sojourn limit."""
        options = self.options
        sojourn_s = options.sojourn_factor * options.queue_timeout_s
        return len(queue) >= self._queue_room() or bool(queue and now - queue[0][0] > sojourn_s)

    @property
    def waiting(self) -> int:
        """Requests queued for a slot now."""
        return len(self._waiting[0]) + len(self._waiting[1])

    def baselines(self) -> dict[str, float]:
        """The own latency without a queue learnt for each kind of request, in seconds."""
        return {kind: learnt.seconds for kind, learnt in self._baselines.items()}

    def admitted_under_probe(self) -> bool:
        """Whether the request just admitted runs under a baseline probe's pin, with no more than the pinned
        number in flight: its own time is a sample without a queue (pass it to :meth:`release`)."""
        probe = self._probe
        return probe.since is not None and self.in_flight <= self.options.probe_concurrency

    def _queue_room(self) -> float:
        """How many may wait: as many slots as free up within ``queue_timeout_s`` at the drain rate
        (see :meth:`_learn`), at most ``max_queue``. One that would only time out in the queue is
        refused at once instead."""
        options = self.options
        if options.queue_timeout_s <= 0:
            return 0.0
        if self._drain_per_s <= 0:
            return float(options.max_queue)
        return min(float(options.max_queue), max(1.0, self._drain_per_s * options.queue_timeout_s))

    def release(
        self,
        started: float,
        *,
        failed: bool,
        elsewhere_s: float = 0.0,
        kind: str | None = None,
        refused_downstream: bool = False,
        probed: bool = False,
    ) -> None:
        """Give the slot back and learn from the request's own latency (its time since ``started``
        less ``elsewhere_s`` spent waiting on others; a failure counts as twice as slow). A request
        another service refused as overloaded (``refused_downstream``) makes this limit back off.
        ``probed``: it was admitted under a baseline probe's pin (see :class:`LimiterOptions`)."""
        if refused_downstream:
            self._window.refused_downstream = True
        in_flight = self.in_flight
        in_use = in_flight >= self.limit / 2 or self.waiting > 0
        self.in_flight -= 1
        total = self._clock() - started
        own = max(0.0, total - elsewhere_s)
        if self._probe.since is not None:
            if probed and not failed:
                self._probe.samples.setdefault(kind or _OTHER, []).append(own)
            self._end_probe_if_done()
        else:
            self._learn(own * 2 if failed else own, total, kind or _OTHER, in_use, in_flight)
        self._wake()

    @contextmanager
    def running(self, kind: str | None = None) -> Iterator[Slot]:
        """Run one admitted request (after :meth:`acquire` said True): measures its own time and
        releases the slot however it ends."""
        with measured(self._clock) as elsewhere:
            started = self._clock()
            probed = self.admitted_under_probe()

            def finish(slot: Slot) -> None:
                self.release(
                    started,
                    failed=slot.failed,
                    elsewhere_s=elsewhere.not_queued_s,
                    kind=slot.kind,
                    refused_downstream=elsewhere.refused_by_others,
                    probed=probed,
                )

            slot = Slot(finish, kind)
            token = _CURRENT_SLOT.set(slot)
            try:
                yield slot
            finally:
                _CURRENT_SLOT.reset(token)
                slot.finish()

    def _wake(self) -> None:
        for priority, queue in ((True, self._waiting[0]), (False, self._waiting[1])):
            while queue and self.in_flight < self._cap(priority):
                _, future = queue.popleft()
                if not future.done():
                    self.in_flight += 1
                    future.set_result(None)

    def _learn(self, own: float, total: float, kind: str, in_use: bool, in_flight: int) -> None:
        options = self.options
        now = self._clock()
        # Under pressure every sample holds some queue: the baseline then rises ten times slower, so a
        # minute's storm cannot teach it the queue (6 %), while a lasting slowdown is still learnt in minutes.
        drift = options.baseline_drift_per_s if not in_use else options.baseline_drift_per_s / 10
        baseline = self._baseline(kind, own, now)
        base = baseline.learn(own, now, drift)
        if baseline.samples < _OWN_BASELINE_FROM and kind != _OTHER:
            # A kind's first samples set its baseline, and a sample compared with itself shows no queue: were
            # they counted so, a flood of documents each seen once would hide any queue from the limit.
            # Until its third sample a kind is judged as "other" is, against the cheapest of the kinds.
            base = self._baseline(_OTHER, own, now).learn(own, now, drift)
        window = self._window
        window.ratios.append(own / max(base, options.baseline_floor_s, 1e-6))
        window.round_trips.append(max(base, total - own + base))  # the round trip without our own queue
        window.totals.append(total)
        window.in_use = window.in_use or in_use
        window.peak_in_flight = max(window.peak_in_flight, in_flight)
        if now - window.started < max(options.update_interval_s, window.wait_s) or len(window.ratios) < 3:
            return
        probe = self._probe
        if options.probe_interval_s > 0 and now >= probe.next_at and (window.in_use or probe.follows_up):
            self._start_probe(now, in_use=window.in_use)
            return
        # One step per window of at least one round trip (Envoy updates per interval, Gradient2 per
        # window): a change of the limit shows in the latency only a round trip later, and stepping on
        # every sample would overshoot in both directions behind a slow downstream.
        ratio = statistics.median(window.ratios)
        # The rate slots free up at: what this window completed, or what the limit completes at its
        # mean latency (Little's law; a skewed latency's median is well below its mean), whichever is
        # higher. The first holds when the limit has just shrunk below what was in flight (the latency
        # was measured with more in flight); the second when a burst follows a quiet spell. It rises at
        # once and falls by half per window at most: one window stalled by a pause must not turn a
        # queued closed loop into a flood of refusals.
        drain = max(
            len(window.totals) / max(now - window.started, 1e-6),
            self.limit / max(statistics.fmean(window.totals), 1e-6),
        )
        self._drain_per_s = max(drain, (self._drain_per_s + drain) / 2)
        self._window = _Window(now, min(_MAX_WINDOW_S, statistics.median(window.round_trips)))
        if window.refused_downstream:
            self._refused_downstream_at = now
            # The service behind this one refused some: refuse the excess here instead, where it is
            # cheap, as an AIMD limiter backs off on a drop (multiplicatively, whatever the latency).
            self._step(
                max(float(options.min_limit), min(self._cap(True), float(self.in_flight)) * options.backoff), now
            )
            return
        if not window.in_use:
            # An app-limited service (far from its limit) says nothing about a higher limit. But one whose
            # requests queue at the concurrency it has says that the unused part of its limit is not there:
            # it comes down to what is in flight, where the gradient takes over. That is a limit grown on a
            # cold first baseline, left at twice a closed loop's clients when the second probe measured the
            # warm service; a storm would have found it there and let in twice what queued already.
            peak = float(window.peak_in_flight)
            if ratio > options.tolerance and peak >= _SHRINK_UNUSED_FROM:
                self._step(min(self.limit, peak + math.sqrt(peak)), now)
            return
        gradient = max(0.5, min(1.0, options.tolerance / max(ratio, 1e-6)))
        if (
            window.turned_away
            and ratio <= (1 + options.tolerance) / 2
            and now - self._refused_downstream_at > _SLOW_START_AFTER_BACKOFF_S
        ):
            # Requests waited or were refused while nothing queued inside: the limit, not the service,
            # is what binds (a downstream that just got slower needs more in flight). Grow as TCP's
            # slow start does, by half per round trip, instead of √limit.
            new_limit = self.limit * 1.5
        else:
            new_limit = self.limit * gradient + math.sqrt(self.limit)
        self._step(self.limit * (1 - options.smoothing) + new_limit * options.smoothing, now)

    def _baseline(self, kind: str, own: float, now: float) -> _Baseline:
        """The baseline of ``kind``, new (at ``own``) if it has none; the read learnt least recently goes to
        make room when :data:`_MAX_KINDS` are kept. Reads' kinds come from clients' documents: a flood of
        new ones must not push out the purchases' baseline."""
        baselines = self._baselines
        baseline = baselines.get(kind)
        if baseline is None:
            reads = [name for name in baselines if name.startswith(_READ)] if len(baselines) >= _MAX_KINDS else []
            if reads:
                del baselines[min(reads, key=lambda name: baselines[name].at)]
            baselines[kind] = baseline = _Baseline(own, now)
        return baseline

    def _start_probe(self, now: float, *, in_use: bool) -> None:
        """Pin the limit low to see the service's own time without a queue (see :class:`LimiterOptions`):
        a baseline learnt only under load is the loaded latency, and a limit compared with it never shrinks.
        That is the case on a single event loop, where every request shares the CPU: a storm that starts at
        once never shows one request the latency it has alone."""
        last = self._probe
        self._probe = _Probe(
            since=now, next_at=math.inf, started=last.started + 1, measured=last.measured,
            out_of_use=last.out_of_use + (not in_use),
        )  # fmt: skip

    def _end_probe_if_done(self) -> None:
        options, probe, now = self.options, self._probe, self._clock()
        assert probe.since is not None
        taken = sum(len(samples) for samples in probe.samples.values())
        if taken < options.probe_samples and now - probe.since < options.probe_max_s:
            return
        for kind, samples in probe.samples.items():
            if len(samples) >= 3:
                self._baseline(kind, 0.0, now).reset(statistics.median(samples), len(samples), now)
        jitter = random.uniform(0.85, 1.15)  # replicas started together must not probe together
        # One that gave up before any sample (a storm's work still draining) is tried again soon.
        interval = options.probe_interval_s if taken else min(options.probe_interval_s, _PROBE_RETRY_S)
        if taken and not probe.measured:
            interval = min(interval, _SECOND_PROBE_S)
        self._probe = _Probe(
            next_at=now + interval * jitter, started=probe.started, measured=probe.measured + (taken > 0),
            out_of_use=probe.out_of_use,
        )  # fmt: skip
        self._window = _Window(now, self._window.wait_s)

    def _step(self, new_limit: float, now: float) -> None:
        options = self.options
        self._raise_from, self._raise_at, self._raise_over_s = self._cap(True), now, self._window.wait_s
        self.limit = max(float(options.min_limit), min(float(options.max_limit), new_limit))


class _LimiterCollector(Collector):
    """The limit as it stands, read at scrape time (nothing is recorded per request)."""

    def __init__(self, limiter: AdaptiveLimiter) -> None:
        self._limiter = limiter

    def collect(self) -> Iterator[Metric]:
        limiter = self._limiter
        yield GaugeMetricFamily("setrum_overload_limit", "Adaptive concurrency limit", value=limiter.limit)
        yield GaugeMetricFamily("setrum_overload_in_flight", "Requests holding a slot", value=limiter.in_flight)
        yield GaugeMetricFamily("setrum_overload_waiting", "Requests queued for a slot", value=limiter.waiting)
        yield CounterMetricFamily("setrum_overload_refused", "Requests refused as overloaded", value=limiter.refused)
        baseline = GaugeMetricFamily(
            "setrum_overload_baseline_seconds", "Own latency without a queue, by kind of request", labels=["kind"]
        )
        for kind, seconds in limiter.baselines().items():
            baseline.add_metric([kind], seconds)
        yield baseline


def limiter_metrics(limiter: AdaptiveLimiter, registry: CollectorRegistry) -> AdaptiveLimiter:
    """Expose ``limiter``'s limit, slots in use, queue and refusals on ``registry`` (read when scraped):
    an operator watching a storm sees where the limit settled, not only that requests were refused."""
    registry.register(_LimiterCollector(limiter))
    return limiter


@dataclass(slots=True)
class _Probe:
    """A baseline probe: running since ``since`` (None: not running), the next one due at ``next_at``
    (0: at the limit's first use), own times of the requests admitted under its pin, by kind."""

    since: float | None = None
    next_at: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=dict)
    started: int = 0  # probes started so far
    measured: int = 0  # probes that took samples (see _SECOND_PROBE_S)
    out_of_use: int = 0  # probes started while the limit was not in use (see follows_up)

    @property
    def follows_up(self) -> bool:
        """Whether this probe is due whether or not the limit is in use: it follows up a first one that
        measured nothing or may have measured a cold service. Those two corrections must not wait for the
        limit's use: a limit raised on a cold baseline grows to twice its demand and so is out of use for as
        long as the demand stays (then a storm finds the probe overdue and is pinned to one at its onset).
        A few tries at most: behind a slow downstream a probe measures nothing, and pinning the limit to one
        every 2 s while it is not even in use would only refuse requests."""
        return self.started > 0 and self.measured < 2 and self.out_of_use < _FOLLOW_UPS_OUT_OF_USE


class _Window:
    """The samples since the limit last moved."""

    __slots__ = (
        "in_use",
        "peak_in_flight",
        "ratios",
        "refused_downstream",
        "round_trips",
        "started",
        "totals",
        "turned_away",
        "wait_s",
    )

    def __init__(self, started: float, wait_s: float) -> None:
        self.started, self.wait_s = started, wait_s
        self.ratios: list[float] = []
        self.round_trips: list[float] = []
        self.totals: list[float] = []
        self.in_use = False
        self.peak_in_flight = 0
        self.turned_away = False
        self.refused_downstream = False


@dataclass(frozen=True, slots=True)
class Admission:
    """Where and how a limiter admits requests: what :class:`OverloadMiddleware` applies, and what the
    HTTP server (:mod:`setrum_common.http_server`) may apply before the app has a request at all.

    Limited: every path but ``/health``, ``/ready`` and ``/metrics``, or only ``paths``. A body declared
    (or read) longer than ``pass_through_bytes`` is not limited here: another gate bounds those (the
    router's large-body gate), and reading it here first would defeat that gate. A refusal may be held
    ``refusal_delay_s`` first (a tarpit: it costs a timer, and slows a client that retries at once
    without honouring ``Retry-After``). With ``report_queued`` an answer says how long its request
    waited in the queue (:data:`QUEUED_HEADER`), so the limit in front counts that wait as its own
    (:mod:`setrum_common.elsewhere`). ``cross_origin_through_app``: a request with an ``Origin`` header is
    refused by the app only, whose CORS layer adds the headers a browser needs to read the refusal."""

    limiter: AdaptiveLimiter
    paths: frozenset[str] | None = None
    pass_through_bytes: int | None = None
    refusal: bytes = field(default_factory=overloaded_body)
    on_refused: Callable[[], None] | None = None
    refusal_delay_s: float = 0.0
    report_queued: bool = False
    cross_origin_through_app: bool = False

    def limits(self, scope: Scope) -> bool:
        """Whether the request (an ASGI scope) is limited at all, by its type and path."""
        return scope["type"] == "http" and self.limits_path(scope["path"])

    def limits_path(self, path: str) -> bool:
        """Whether an HTTP request to ``path`` is limited."""
        return path in self.paths if self.paths is not None else path not in _EXEMPT_PATHS

    def passes_through(self, length: int) -> bool:
        """Whether a body this long passes through unlimited (see the class)."""
        return self.pass_through_bytes is not None and length > self.pass_through_bytes

    def declared_too_long(self, scope: Scope) -> bool:
        """A POST whose declared length passes it through unlimited (see the class)."""
        if self.pass_through_bytes is None or scope["method"] != "POST":
            return False
        for name, value in scope["headers"]:
            if name == b"content-length":
                return not value.isdigit() or self.passes_through(int(value))
        return False

    def refuse_at_once(self, text: bytes) -> bool:
        """Whether the limiter refuses, without a wait, a request whose operation text (a POST body, a GET
        query string) is ``text``; counted as refused when so. False: the app's middleware decides."""
        if not self.limiter.refuse_at_once(priority=priority_marker(text) is not None):
            return False
        if self.on_refused is not None:
            self.on_refused()
        return True


class OverloadMiddleware:
    """The limiter around an ASGI app, in front of everything else the app does, so a refusal costs
    little more than the HTTP parsing: POST bodies and GET query strings that carry a priority marker
    go first; ``admission`` says which requests are limited and how a refusal is answered.
    A request's slot ends when its answer starts, so a stream (a subscription) holds none."""

    def __init__(self, app: ASGIApp, *, admission: Admission) -> None:
        self.app = app
        self.admission = admission
        self.limiter = admission.limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admission = self.admission
        if not admission.limits(scope) or admission.declared_too_long(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        if scope["method"] == "POST":
            read = 0
            while True:
                message = await receive()
                messages.append(message)
                read += len(message.get("body", b""))
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
                if admission.pass_through_bytes is not None and read > admission.pass_through_bytes:
                    await self.app(scope, _replaying(messages, receive), send)  # a long chunked body
                    return
            text = b"".join(m.get("body", b"") for m in messages)
        else:
            text = scope.get("query_string", b"")
        kind = priority_marker(text)
        report_queued = admission.report_queued
        asked_at = time.monotonic() if report_queued else 0.0  # the router does not report: no clock read
        if not await self.limiter.acquire(priority=kind is not None):
            if admission.on_refused is not None:
                admission.on_refused()
            if admission.refusal_delay_s > 0:
                # A client that asks again the moment it is refused (wrk, a naive retry loop) would
                # otherwise spin: thousands of refusals a second take the CPU the queue is waiting on.
                await HeldRefusals.of(asyncio.get_running_loop()).wait(admission.refusal_delay_s)
            await send({"type": "http.response.start", "status": 503, "headers": refusal_headers(admission.refusal)})
            await send({"type": "http.response.body", "body": admission.refusal})
            return
        queued_ms = int((time.monotonic() - asked_at) * 1000) if report_queued else 0
        if kind is None:  # a read: learnt as its own operation (see operation_kind)
            kind = operation_kind(text, query_string=scope["method"] != "POST")
        with self.limiter.running(kind) as slot:

            async def send_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    slot.failed = message["status"] >= 500
                    slot.finish()
                    if queued_ms > 0:
                        headers = [*message.get("headers", ()), (_QUEUED_HEADER_BYTES, str(queued_ms).encode())]
                        message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, _replaying(messages, receive) if messages else receive, send_status)


class HeldRefusals:
    """Refusals held for the refusal delay (a tarpit, see :class:`Admission`), sent by one timer per tick
    instead of one timer each: in a 10x storm a timer per refusal (made, armed, fired, closed) was a quarter of
    the refusal's CPU. Each leaves no sooner than its delay and at most :data:`REFUSAL_TICK_S` after it. One per
    event loop (:meth:`of`), shared by the HTTP server's door (:meth:`hold`) and the middleware (:meth:`wait`)."""

    __slots__ = ("_loop", "_pending", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._pending: deque[tuple[float, Callable[..., None], tuple[Any, ...]]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> HeldRefusals:
        held = _HELD_PER_LOOP.get(loop)
        if held is None:
            held = _HELD_PER_LOOP[loop] = cls(loop)
        return held

    async def wait(self, delay_s: float) -> None:
        """Return once ``delay_s`` has passed (and at most a tick later): the app's refusals are held so too."""
        woken = self._loop.create_future()
        self.hold(delay_s, _wake, woken)
        await woken

    def hold(self, delay_s: float, send: Callable[..., None], *args: Any) -> None:
        """Call ``send(*args)`` once ``delay_s`` has passed (and at most a tick later)."""
        due = self._loop.time() + delay_s
        self._pending.append((due, send, args))
        if self._timer is None:
            self._timer = self._loop.call_at(due + REFUSAL_TICK_S, self._release)

    def _release(self) -> None:
        self._timer = None
        pending = self._pending
        now = self._loop.time()
        try:
            while pending and pending[0][0] <= now:  # in order of their due time (one delay per loop in practice)
                _, send, args = pending.popleft()
                send(*args)
        finally:
            if pending and self._timer is None:  # a send may have held another refusal, and armed the timer
                self._timer = self._loop.call_at(pending[0][0] + REFUSAL_TICK_S, self._release)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():  # its request may have been cancelled meanwhile (the client left)
        woken.set_result(None)


_HELD_PER_LOOP: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, HeldRefusals] = weakref.WeakKeyDictionary()


def refusal_headers(body: bytes) -> list[tuple[bytes, bytes]]:
    """The headers of a 503 refusal carrying ``body`` (a GraphQL error coded ``OVERLOADED``)."""
    return [
        (b"content-type", b"application/json"),
        (b"retry-after", str(RETRY_AFTER_S).encode()),
        (b"content-length", str(len(body)).encode()),
    ]


def admission_of(app: object) -> Admission | None:
    """The :class:`Admission` an app published as ``app.state.admission``, looked for through the
    wrappers a server puts around it (each keeps the wrapped app as ``.app``)."""
    for _ in range(8):
        found = getattr(getattr(app, "state", None), "admission", None)
        if isinstance(found, Admission):
            return found
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay
