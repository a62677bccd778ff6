from __future__ import annotations

import pytest

from setrum_common.identifiers import luhn_check_digit
from subgraphs.master.identifiers import (
    IdentifierKind,
    InvalidCustomerNumber,
    parse_customer_number,
    parse_meter_number,
)


def test_meter_number_with_good_check_digit() -> None:
    parsed = parse_customer_number("14233784991")
    assert parsed.kind is IdentifierKind.METER_NUMBER
    assert parsed.value == "14233784991"
    assert parsed.check_digit_valid is True


def test_bad_check_digit_only_warns() -> None:
    good = "1423378499" + luhn_check_digit("1423378499")
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    parsed = parse_customer_number(bad)
    assert parsed.kind is IdentifierKind.METER_NUMBER
    assert parsed.check_digit_valid is False


def test_idpel_is_twelve_digits() -> None:
    parsed = parse_customer_number(" 543400893197 ")
    assert parsed.kind is IdentifierKind.IDPEL
    assert parsed.value == "543400893197"
    assert parsed.check_digit_valid is True


@pytest.mark.parametrize(
    "raw", ["", "   ", "1423378499", "1423378499123", "1423378499a", "1423-3784991", "١٤٢٣٣٧٨٤٩٩١", "+4233784991"]
)
def test_wrong_digit_count_or_non_digits(raw: str) -> None:
    with pytest.raises(InvalidCustomerNumber):
        parse_customer_number(raw)


def test_parse_meter_number_refuses_idpel() -> None:
    assert parse_meter_number("14233784991").value == "14233784991"
    with pytest.raises(InvalidCustomerNumber):
        parse_meter_number("543400893197")
