"""bench/hops.py: percentiles from the difference of two scrapes of a Prometheus histogram."""

from __future__ import annotations

import math

from bench.hops import Series, Snapshot, breakdown, quantile

BUCKETS = (0.01, 0.1, 1.0, math.inf)


def _series(counts: tuple[float, ...]) -> dict[float, float]:
    return dict(zip(BUCKETS, counts, strict=True))


def test_a_quantile_interpolates_within_its_bucket() -> None:
    # 100 observations: 50 under 10 ms, 40 between 10 and 100 ms, 10 between 100 ms and 1 s
    buckets = _series((50, 90, 100, 100))
    assert quantile(0.5, buckets) == 0.01
    assert math.isclose(quantile(0.7, buckets) or 0, 0.01 + 0.09 * 0.5)
    assert math.isclose(quantile(0.99, buckets) or 0, 0.1 + 0.9 * 0.9)
    assert quantile(0.5, _series((0, 0, 0, 0))) is None


def test_past_the_last_finite_bucket_its_bound_is_all_that_is_known() -> None:
    assert quantile(0.99, _series((0, 0, 10, 100))) == 1.0


def test_the_breakdown_reads_only_what_happened_between_the_two_scrapes() -> None:
    key: Series = ("http_request_duration_seconds", (("route", "/graphql"),))
    before: dict[str, Snapshot] = {"transactions": {key: _series((1000, 1000, 1000, 1000))}}  # an earlier, fast run
    after: dict[str, Snapshot] = {"transactions": {key: _series((1000, 1000, 1100, 1100))}}  # then 100 in 0.1-1 s
    (line,) = breakdown(before, after)
    assert line.startswith("transactions http_request{route=/graphql}: 100, p50 550 ms, p99 ")
    assert breakdown(after, after) == []  # nothing new: nothing printed
