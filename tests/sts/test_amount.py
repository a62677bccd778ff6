from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sts.amount import (
    MAX_KWH,
    MAX_TENTHS,
    decode_amount,
    encode_amount,
    encode_tenths,
    kwh_to_tenths,
    tenths_to_kwh,
)


@pytest.mark.parametrize(
    ("kwh", "tenths"),
    [("1.82", 18), ("0.4712", 5), ("0.01", 1), ("1", 10), ("67.59", 675), ("1897.345", 18973), ("0.99", 10)],
)
def test_kwh_to_tenths_rounding(kwh: str, tenths: int) -> None:
    assert kwh_to_tenths(kwh) == tenths


@pytest.mark.parametrize("tenths", [1, 2, 999, 16383])
def test_exact_below_the_first_exponent(tenths: int) -> None:
    field = encode_tenths(tenths)
    assert field >> 14 == 0
    assert decode_amount(field) == tenths


@pytest.mark.parametrize(
    ("kwh", "carried"),
    [
        ("1638.3", "1638.3"),  # largest exact amount
        ("1638.4", "1638.4"),  # first value of exponent 1: 16384 + 0
        ("1638.5", "1639.4"),  # above 1638.4 kWh only every whole kWh + 0.4 exists
        ("16383", "16383.4"),
        ("16384", "16384.4"),
        ("18021.4", "18021.4"),  # largest value of exponent 1 (m = 16383)
        ("18021.5", "18022.4"),  # rounds up into exponent 2
        ("18022.4", "18022.4"),  # first value of exponent 2
        ("1820162.4", "1820162.4"),  # the largest amount
    ],
)
def test_range_edges(kwh: str, carried: str) -> None:
    value = tenths_to_kwh(decode_amount(encode_amount(kwh)))
    assert value == Decimal(carried)
    assert value >= Decimal(kwh)


def test_largest_amount() -> None:
    assert Decimal("1820162.4") == MAX_KWH
    field = encode_tenths(MAX_TENTHS)
    assert field == 0xFFFF
    assert decode_amount(field) == MAX_TENTHS
    with pytest.raises(ValueError):
        encode_tenths(MAX_TENTHS + 1)
    with pytest.raises(ValueError):
        encode_amount("1820162.5")


def test_every_field_value_round_trips() -> None:
    for field in range(1, 1 << 16):
        tenths = decode_amount(field)
        assert decode_amount(encode_tenths(tenths)) == tenths
    # The encoding never carries less than asked for and never more than one step more.
    for tenths in (16384, 16385, 16393, 16394, 180223, 180224, 180225, 1818623, 1818624, 1818625):
        carried = decode_amount(encode_tenths(tenths))
        step = 1 if tenths < 16384 else 10 if tenths < 180224 else 100 if tenths < 1818624 else 1000
        assert tenths <= carried < tenths + step


@pytest.mark.parametrize("bad", ["0", "-1", "NaN", "abc", 0])
def test_rejects_non_positive(bad: Any) -> None:
    with pytest.raises(ValueError):
        encode_amount(bad)
