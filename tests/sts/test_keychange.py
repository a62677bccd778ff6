"""Key change tokens (class 2, subclasses 3 and 4): published vectors, then the meter simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sts.keychange import KeyChange, key_change_tokens, read_section
from sts.keys import MeterKeyParams, derive_decoder_key, parse_vending_key
from sts.meter import MeterSimulator, Outcome
from sts.tid import BASE_1993, BASE_2014, MAX_TID, tid_for
from sts.tokens import KeyChangeSection, credit_token, parse_token

VK = parse_vending_key("abababababababab")

# STS 531-1-0-02 compliance test CTSA05 (DKGA02 + EA07): vending key abab..., SGC 123456, KT 2,
# KRN 1, KEN 255, RO 0; the key moves from tariff index 01 to 02 (and back, in the "flipped" case).
# (meter number, IIN, old TI, new TI, 1st section, 2nd section)
CTSA05 = [
    ("00000000000", "600727", "01", "02", "51638423060042734509", "15361891762113502242"),
    ("00000000000", "600727", "02", "01", "26553210520543055412", "00943705441908264439"),
    ("00000000008", "000001", "01", "02", "36495265416911568628", "35908059266238070883"),
]


def _key(meter: str, iin: str = "600727", ti: str = "01", krn: int = 1, sgc: str = "123456") -> int:
    params = MeterKeyParams(meter, iin=iin, tariff_index=ti, key_revision=krn, supply_group_code=sgc)
    return derive_decoder_key(VK, params)


@pytest.mark.parametrize(("meter", "iin", "old_ti", "new_ti", "first", "second"), CTSA05)
def test_published_key_change_vectors(meter: str, iin: str, old_ti: str, new_ti: str, first: str, second: str) -> None:
    old, new = _key(meter, iin, old_ti), _key(meter, iin, new_ti)
    tokens = key_change_tokens(old, KeyChange(new, key_revision=1, key_type=2, tariff_index=new_ti))
    assert [t.replace("-", "") for t in tokens] == [first, second]
    # Read back with the old key: every field where the layout puts it.
    one, two = (parse_token(t, old) for t in tokens)
    assert (one.kind, two.kind) == ("KEY_CHANGE_FIRST", "KEY_CHANGE_SECOND")
    a, b = read_section(one.subclass, one.body), read_section(two.subclass, two.body)
    assert (a.section, a.ken_half, a.key_revision, a.key_type, a.rollover) == (KeyChangeSection.FIRST, 15, 1, 2, False)
    assert (b.section, b.ken_half, b.tariff_index) == (KeyChangeSection.SECOND, 15, new_ti)
    assert a.key_half << 32 | b.key_half == new


METER = "14233784991"
OLD = _key(METER, krn=1)
NEW = _key(METER, krn=2)
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _pair(old: int = OLD, new: int = NEW, **change: Any) -> tuple[str, str]:
    fields: dict[str, Any] = {"key_revision": 2, "key_type": 2, "tariff_index": "01", **change}
    return key_change_tokens(old, KeyChange(new, **fields))


def test_pair_then_credit_in_that_order() -> None:
    meter = MeterSimulator(OLD)
    first, second = _pair()
    credit = credit_token(NEW, 675, issued_at=NOW).token
    one = meter.enter(first)
    assert one.outcome is Outcome.ACCEPTED and not one.key_changed
    assert meter.decoder_key == OLD  # the key changes only when both halves are in
    two = meter.enter(second)
    assert two.outcome is Outcome.ACCEPTED and two.key_changed
    assert (meter.decoder_key, meter.key_revision, meter.key_type, meter.tariff_index) == (NEW, 2, 2, "01")
    assert meter.enter(credit).credited_tenths == 675
    assert meter.credit_tenths == 675


def test_credit_before_the_pair_is_a_crc_error_and_changes_nothing() -> None:
    meter = MeterSimulator(OLD)
    credit = credit_token(NEW, 675, issued_at=NOW).token
    assert meter.enter(credit).outcome is Outcome.CRC_ERROR
    first, second = _pair()
    meter.enter(first)
    assert meter.enter(credit).outcome is Outcome.CRC_ERROR  # half a pair: still the old key
    assert meter.enter(credit_token(OLD, 10, tid=tid_for(NOW) - 1).token).accepted
    meter.enter(second)
    assert meter.enter(credit).accepted
    assert meter.credit_tenths == 685


def test_second_section_first_also_completes_the_change() -> None:
    meter = MeterSimulator(OLD)
    first, second = _pair()
    assert not meter.enter(second).key_changed
    assert meter.enter(first).key_changed
    assert meter.decoder_key == NEW


def test_pair_for_another_meter_or_replayed_after_the_change_is_refused() -> None:
    other = MeterSimulator(_key("56001234568"))
    first, second = _pair()
    assert other.enter(first).outcome is Outcome.CRC_ERROR
    meter = MeterSimulator(OLD)
    meter.enter(first)
    meter.enter(second)
    # The pair was encrypted under the old key, which the meter no longer has.
    assert meter.enter(first).outcome is Outcome.CRC_ERROR


def test_an_expired_key_can_still_be_replaced_and_the_new_ken_applies() -> None:
    tid = tid_for(NOW)
    meter = MeterSimulator(OLD, key_expiry_number=(tid >> 16) - 1)
    assert meter.enter(credit_token(OLD, 10, tid=tid).token).outcome is Outcome.KEY_ERROR
    first, second = _pair(key_expiry_number=tid >> 16)  # the new key expires after this TID's period
    assert meter.enter(first).accepted and meter.enter(second).key_changed
    assert meter.key_expiry_number == tid >> 16
    assert meter.enter(credit_token(NEW, 10, tid=tid).token).accepted
    later = ((tid >> 16) + 1) << 16
    assert meter.enter(credit_token(NEW, 10, tid=later).token).outcome is Outcome.KEY_ERROR


def test_rollover_forgets_the_1993_tids_and_counts_from_2014() -> None:
    # A 1993 meter that has seen its memory full of late-2024 TIDs.
    meter = MeterSimulator(OLD, base=BASE_1993, memory=3)
    for offset in range(3):
        assert meter.enter(credit_token(OLD, 10, tid=MAX_TID - 10 + offset, base=BASE_1993).token).accepted
    credit = credit_token(NEW, 500, issued_at=NOW, base=BASE_2014)
    without_ro = MeterSimulator(OLD, base=BASE_1993, memory=3)
    for tid in meter.remembered_tids:
        without_ro.enter(credit_token(OLD, 10, tid=tid, base=BASE_1993).token)
    a, b = _pair(rollover=False)
    without_ro.enter(a)
    without_ro.enter(b)
    # Without RO the small 2014 TID is older than everything remembered.
    assert without_ro.enter(credit.token).outcome is Outcome.OLD
    first, second = _pair(rollover=True)
    meter.enter(first)
    assert meter.enter(second).key_changed
    assert meter.remembered_tids == () and meter.base == BASE_2014
    result = meter.enter(credit.token)
    assert result.accepted and result.token is not None and result.token.issued_at == NOW
