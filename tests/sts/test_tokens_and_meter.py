"""Round trips through the meter simulator: what a real meter would answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sts.meter import MeterSimulator, Outcome
from sts.tid import BASE_1993, BASE_2014, tid_for
from sts.tokens import (
    CLEAR_ALL_REGISTERS,
    CRCError,
    ManagementKind,
    TokenClass,
    TokenFormatError,
    credit_token,
    format_token,
    management_token,
    parse_token,
)

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _corrupt(token: str, position: int) -> str:
    digits = list(token.replace("-", ""))
    digits[position] = str((int(digits[position]) + 1) % 10)
    return "".join(digits)


def test_generated_token_is_accepted_with_exact_kwh(demo_key: int) -> None:
    meter = MeterSimulator(demo_key)
    issued = credit_token(demo_key, 675, issued_at=T0)
    assert issued.kwh == Decimal("67.5")
    result = meter.enter(issued.token)
    assert result.outcome is Outcome.ACCEPTED
    assert result.credited_kwh == Decimal("67.5")
    assert meter.credit_kwh == Decimal("67.5")
    assert result.token is not None and result.token.issued_at == T0


def test_second_entry_is_used_and_older_is_old(demo_key: int) -> None:
    meter = MeterSimulator(demo_key, memory=3)
    tokens = [credit_token(demo_key, 10, tid=tid_for(T0) + i).token for i in range(6)]
    older = tokens.pop(0)
    for token in tokens:
        assert meter.enter(token).accepted
    assert meter.credit_tenths == 50
    again = meter.enter(tokens[-1])
    assert again.outcome is Outcome.USED
    assert meter.enter(older).outcome is Outcome.OLD
    assert meter.credit_tenths == 50


def test_token_within_the_memory_window_is_still_accepted(demo_key: int) -> None:
    meter = MeterSimulator(demo_key, memory=50)
    newer = credit_token(demo_key, 10, tid=tid_for(T0) + 5).token
    earlier = credit_token(demo_key, 20, tid=tid_for(T0)).token
    assert meter.enter(newer).accepted
    # A real meter accepts an earlier, unused token until 50 newer ones have pushed it out.
    assert meter.enter(earlier).accepted
    assert meter.credit_tenths == 30


@pytest.mark.parametrize("position", [0, 7, 13, 19])
def test_a_mistyped_digit_is_a_crc_error(demo_key: int, position: int) -> None:
    token = credit_token(demo_key, 500, issued_at=T0).token
    bad = _corrupt(token, position)
    meter = MeterSimulator(demo_key)
    result = meter.enter(bad)
    # Changing a digit may also push the number past 66 bits: a format error.
    assert result.outcome in (Outcome.CRC_ERROR, Outcome.FORMAT_ERROR)
    assert meter.credit_tenths == 0
    if result.outcome is Outcome.CRC_ERROR:
        with pytest.raises(CRCError):
            parse_token(bad, demo_key)


def test_token_for_another_meter_is_refused(demo_key: int) -> None:
    other_key = demo_key ^ 0x0000_0100_0000_0000
    token = credit_token(other_key, 500, issued_at=T0).token
    assert MeterSimulator(demo_key).enter(token).outcome is Outcome.CRC_ERROR


def test_key_expiry_number_gives_key_error(demo_key: int) -> None:
    meter = MeterSimulator(demo_key, key_expiry_number=(tid_for(T0) >> 16) - 1)
    token = credit_token(demo_key, 10, issued_at=T0).token
    assert meter.enter(token).outcome is Outcome.KEY_ERROR


def test_format_errors() -> None:
    for bad in ("1234", "1234-5678-9012-3456-789X", "99999999999999999999"):
        with pytest.raises(TokenFormatError):
            parse_token(bad, 0)
    assert format_token("12345678901234567890") == "1234-5678-9012-3456-7890"


def test_management_tokens_round_trip(demo_key: int) -> None:
    meter = MeterSimulator(demo_key)
    meter.tampered = True
    assert meter.enter(credit_token(demo_key, 1000, issued_at=T0).token).accepted
    assert meter.credit_tenths == 1000

    mpl = management_token(demo_key, ManagementKind.SET_MAX_POWER, 1300, issued_at=T0 + timedelta(minutes=1))
    decoded = parse_token(mpl.token, demo_key)
    assert (decoded.token_class, decoded.subclass, decoded.kind) == (TokenClass.MANAGEMENT, 0, "SET_MAX_POWER")
    assert decoded.max_power_watts == 1300
    assert meter.enter(mpl.token).accepted
    assert meter.max_power_watts == 1300

    tamper = management_token(demo_key, "CLEAR_TAMPER", issued_at=T0 + timedelta(minutes=2))
    assert parse_token(tamper.token, demo_key).subclass == 5
    assert meter.enter(tamper.token).accepted
    assert meter.tampered is False

    clear = management_token(demo_key, "CLEAR_CREDIT", CLEAR_ALL_REGISTERS, issued_at=T0 + timedelta(minutes=3))
    assert parse_token(clear.token, demo_key).value == 0xFFFF
    assert meter.enter(clear.token).accepted
    assert meter.credit_tenths == 0
    assert meter.enter(clear.token).outcome is Outcome.USED


def test_management_token_validation(demo_key: int) -> None:
    with pytest.raises(ValueError):
        management_token(demo_key, "SET_MAX_POWER", None, issued_at=T0)
    with pytest.raises(ValueError):
        management_token(demo_key, "CLEAR_TAMPER", 5, issued_at=T0)
    with pytest.raises(KeyError):
        management_token(demo_key, "REBOOT", issued_at=T0)


def test_base_date_is_part_of_the_tid(demo_key: int) -> None:
    issued = credit_token(demo_key, 10, issued_at=datetime(2020, 5, 1, 10, 0), base=BASE_1993)
    assert parse_token(issued.token, demo_key, BASE_1993).issued_at == datetime(2020, 5, 1, 10, 0, tzinfo=UTC)
    # Read against the other base date, the same TID means another time.
    assert parse_token(issued.token, demo_key, BASE_2014).issued_at != datetime(2020, 5, 1, 10, 0, tzinfo=UTC)


def test_1993_meter_after_overflow_needs_key_change(demo_key: int) -> None:
    from sts.tid import KeyChangeRequired

    with pytest.raises(KeyChangeRequired):
        credit_token(demo_key, 10, issued_at=datetime(2025, 1, 1), base=BASE_1993)
