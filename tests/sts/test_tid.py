from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sts.tid import (
    BASE_1993,
    BASE_2014,
    MAX_TID,
    KeyChangeRequired,
    base_rollover,
    tid_for,
    tid_to_datetime,
)


def test_rollover_of_base_1993() -> None:
    assert base_rollover(BASE_1993) == datetime(2024, 11, 24, 20, 16, tzinfo=UTC)
    assert tid_for(datetime(2024, 11, 24, 20, 15, 59), BASE_1993) == MAX_TID
    with pytest.raises(KeyChangeRequired, match="key change"):
        tid_for(datetime(2024, 11, 24, 20, 16), BASE_1993)


def test_base_2014_covers_today_and_beyond() -> None:
    now = datetime(2026, 6, 1, 12, 30, 45, tzinfo=UTC)
    tid = tid_for(now, BASE_2014)
    assert tid_to_datetime(tid, BASE_2014) == now.replace(second=0)
    assert base_rollover(BASE_2014).year == 2045


def test_aware_times_are_converted_to_utc() -> None:
    jakarta = timezone(timedelta(hours=7))
    local = datetime(2026, 1, 1, 7, 0, tzinfo=jakarta)
    assert tid_for(local) == tid_for(datetime(2026, 1, 1, 0, 0))


def test_before_base_is_refused() -> None:
    with pytest.raises(ValueError):
        tid_for(datetime(2013, 12, 31, 23, 59), BASE_2014)
    with pytest.raises(ValueError):
        tid_to_datetime(MAX_TID + 1)
