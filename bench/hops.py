"""Where a run's latency went, hop by hop, from the services' own Prometheus histograms.

A storm's admitted p99 is one number at the client; to know whether it was spent in the router's
queue, transactions' queue, transactions' own work or the biller, each process's ``/metrics`` is
read before and after the run and the difference of each latency histogram is turned into
percentiles (linear within a bucket, as Prometheus' ``histogram_quantile`` does). Buckets are coarse
(…0.25, 0.5, 1, 2.5, 5 s), so these locate a tail; they do not measure it to the millisecond.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

__all__ = ["LimitTrace", "Series", "Snapshot", "breakdown", "hop_urls", "metric_samples", "quantile", "snapshot"]

# One histogram series: (metric, its labels but "le") -> {upper bound: cumulative count}
Series = tuple[str, tuple[tuple[str, str], ...]]
Snapshot = dict[Series, dict[float, float]]

# The series that tell where a purchase's time went; others are left out of the printout.
_WANTED = frozenset(
    {
        "router_request_duration_seconds",
        "router_subgraph_fetch_duration_seconds",
        "http_request_duration_seconds",
        "graphql_operation_duration_seconds",
    }
)


def metric_samples(base_url: str, http: httpx.Client | None = None) -> list[Sample]:
    """Every sample a process's ``/metrics`` shows now (``http``: a client to reuse while sampling)."""
    text = (http.get(f"{base_url}/metrics") if http else httpx.get(f"{base_url}/metrics", timeout=10)).text
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def snapshot(base_urls: Mapping[str, str]) -> dict[str, Snapshot]:
    """Every latency histogram of each named process (``{"router": "http://127.0.0.1:4000"}``)."""
    out: dict[str, Snapshot] = {}
    for name, base_url in base_urls.items():
        try:
            samples = metric_samples(base_url)
        except httpx.HTTPError:
            continue
        series: Snapshot = {}
        for sample in samples:
            metric = sample.name.removesuffix("_bucket")
            if metric == sample.name or metric not in _WANTED:
                continue
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            series.setdefault((metric, labels), {})[float(sample.labels["le"])] = sample.value
        out[name] = series
    return out


def quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The q-quantile of a cumulative histogram (None when it holds nothing)."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower  # past the last finite bucket: its bound is all we know
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def breakdown(before: Mapping[str, Snapshot], after: Mapping[str, Snapshot], *, min_count: int = 50) -> list[str]:
    """One line per series that saw at least ``min_count`` observations between the two snapshots:
    process, series, count, p50 and p99 in ms."""
    lines: list[str] = []
    for process, series in after.items():
        earlier = before.get(process, {})
        for (metric, labels), buckets in sorted(series.items()):
            old = earlier.get((metric, labels), {})
            delta = {bound: count - old.get(bound, 0.0) for bound, count in buckets.items()}
            count = max(delta.values(), default=0.0)
            if count < min_count:
                continue
            p50, p99 = quantile(0.5, delta), quantile(0.99, delta)
            label_text = ",".join(f"{k}={v}" for k, v in labels)
            lines.append(
                f"{process} {metric.removesuffix('_duration_seconds')}{{{label_text}}}: {count:.0f}, "
                f"p50 {_ms(p50)}, p99 {_ms(p99)}"
            )
    return lines


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def hop_urls(system: Any, names: Sequence[str] = ("router", "transactions", "biller", "master")) -> dict[str, str]:
    """The base URLs of a launcher System's processes that are named."""
    return {name: system.spec(name).base_url for name in names}


# (sample name, its "kind" label or "") of what the trace shows, in the order shown; seconds print as ms.
_LIMIT_SAMPLES = (
    ("setrum_overload_limit", ""),
    ("setrum_overload_in_flight", ""),
    ("setrum_overload_waiting", ""),
    ("setrum_overload_baseline_seconds", "purchaseToken"),
)


class LimitTrace:
    """Samples each process's concurrency limit, slots in use, queue and purchase baseline
    (``setrum_overload_*``) every ``every_s`` from a thread while a run goes on, so a storm's timeline
    shows what the limits did."""

    def __init__(self, base_urls: Mapping[str, str], every_s: float = 0.5) -> None:
        self._urls = dict(base_urls)
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.samples: list[tuple[float, dict[str, tuple[int, ...]]]] = []

    def __enter__(self) -> LimitTrace:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with httpx.Client(timeout=2) as http:
            while not self._stop.is_set():
                at = time.monotonic() - self._started
                row: dict[str, tuple[int, ...]] = {}
                for name, base_url in self._urls.items():
                    try:
                        samples = metric_samples(base_url, http)
                    except httpx.HTTPError:
                        continue
                    values = {(s.name, s.labels.get("kind", "")): s.value for s in samples}
                    if ("setrum_overload_limit", "") in values:
                        row[name] = tuple(
                            round(values.get(key, 0.0) * (1000 if key[0].endswith("_seconds") else 1))
                            for key in _LIMIT_SAMPLES
                        )
                self.samples.append((at, row))
                self._stop.wait(self._every_s)

    def text(self) -> str:
        """One entry per sample: ``t name limit/in flight/waiting/purchase baseline ms ...``."""
        return "  ".join(
            f"{at:.1f}s " + " ".join(f"{name[0]}{'/'.join(map(str, v))}" for name, v in row.items())
            for at, row in self.samples
        )
