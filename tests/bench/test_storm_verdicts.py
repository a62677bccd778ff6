"""How the storm section judges its targets (bench/storm.py): goodput on the median of an offer's rounds,
latencies and recovery on every storm."""

from __future__ import annotations

from typing import Any

from bench.storm import goodput_medians, verdicts


def storm(factor: int, round_no: int, share: float, **overrides: Any) -> dict[str, Any]:
    d = {
        "factor": factor,
        "round": round_no,
        "goodput_share": share,
        "p99_admitted_ms": 600.0,
        "p99_refused_ms": 35.0,
        "recovery_s": 1.0,
    }
    return d | overrides


def test_one_slow_round_in_three_does_not_miss_the_goodput_target_but_its_figure_is_kept() -> None:
    storms = [storm(3, 1, 0.97), storm(10, 1, 0.93), storm(3, 2, 0.79), storm(10, 2, 0.95), storm(3, 3, 0.94)]
    storms.append(storm(10, 3, 0.91))
    assert goodput_medians(storms) == {"x3": 0.94, "x10": 0.93}
    assert verdicts("PostgreSQL", storms) == []


def test_a_median_below_the_target_is_a_miss_that_names_every_round() -> None:
    storms = [storm(3, 1, 0.85), storm(3, 2, 0.97), storm(3, 3, 0.88), storm(10, 1, 0.99)]
    assert verdicts("SQLite", storms) == [
        "storm/SQLite 3x: median goodput 0.88 of capacity (rounds: 0.85, 0.97, 0.88; target >= 0.9)"
    ]


def test_latencies_and_recovery_are_judged_on_every_storm() -> None:
    storms = [
        storm(3, 1, 0.95),
        storm(3, 2, 0.95, p99_refused_ms=267.0),
        storm(10, 1, 0.95, p99_admitted_ms=1483.0),
        storm(10, 2, 0.95, recovery_s=None),
    ]
    assert verdicts("PostgreSQL", storms) == [
        "storm/PostgreSQL 3x round 2: refused p99 267 ms (target <= 50)",
        "storm/PostgreSQL 10x round 1: admitted p99 1483 ms (target <= 1000)",
        "storm/PostgreSQL 10x round 2: recovery None s (target <= 5)",
    ]
