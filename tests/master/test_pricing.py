"""The price/kWh formula of docs/domain.md §Price and kWh, checked against its worked examples and the sum identity."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from setrum_common.kwh_limit import monthly_kwh_limit
from setrum_common.pricing import PricingError, price_purchase, stamp_duty_for

D = Decimal


def test_worked_example_r1_1300va_jakarta() -> None:
    price = price_purchase(nominal=D("100000"), tariff_rate=D("1444.70"), ppj_rate=D("0.024"))
    assert price.energy_value == D("97656.25")
    assert price.ppj == D("2343.75")
    assert price.ppn == D("0.00")
    assert price.kwh == D("67.5")  # 67.596... rounded down to the 0.1 kWh step
    assert str(price.kwh) == "67.5"
    assert str(price.energy_value) == "97656.25"


def test_worked_example_r3_7700va_jakarta_with_ppn() -> None:
    price = price_purchase(
        nominal=D("1000000"), tariff_rate=D("1699.53"), ppj_rate=D("0.04"), ppn_rate=D("0.11"), admin_fee=D("2500")
    )
    assert price.ppj == D("34782.61")
    assert price.ppn == D("95652.17")
    assert price.energy_value == D("869565.22")
    assert price.kwh == D("511.6")
    assert price.total_paid == D("1002500.00")
    assert price.energy_value + price.ppj + price.ppn == price.nominal


def test_admin_fee_is_on_top_and_not_taxed() -> None:
    without = price_purchase(nominal=D("50000"), tariff_rate=D("1444.70"), ppj_rate=D("0.024"))
    with_fee = price_purchase(nominal=D("50000"), tariff_rate=D("1444.70"), ppj_rate=D("0.024"), admin_fee=D("3500"))
    assert with_fee.total_paid == D("53500.00")
    assert without.total_paid == D("50000.00")
    assert (with_fee.energy_value, with_fee.ppj, with_fee.kwh) == (without.energy_value, without.ppj, without.kwh)


def test_stamp_duty_only_strictly_above_five_million() -> None:
    threshold, amount = D("5000000"), D("10000")
    assert stamp_duty_for(D("5000000"), threshold=threshold, amount=amount) == D("0")
    assert stamp_duty_for(D("5000000.01"), threshold=threshold, amount=amount) == D("10000")
    assert stamp_duty_for(D("10000000"), threshold=threshold, amount=amount) == D("10000")


def test_stamp_duty_and_instalment_are_deducted_before_taxes() -> None:
    price = price_purchase(
        nominal=D("10000000"),
        tariff_rate=D("1699.53"),
        ppj_rate=D("0.04"),
        ppn_rate=D("0.11"),
        stamp_duty=D("10000"),
        instalment=D("5000"),
    )
    # net = 9,985,000; stroom = net / 1.15 = 8,682,608.695...
    assert price.ppj == D("347304.35")
    assert price.ppn == D("955086.96")
    assert price.energy_value == D("8682608.69")
    assert price.energy_value + price.ppj + price.ppn + price.stamp_duty + price.instalment == price.nominal
    assert price.kwh == D("5108.8")  # 8,682,608.69 / 1,699.53 = 5108.86...


def test_instalment_reduces_energy() -> None:
    plain = price_purchase(nominal=D("20000"), tariff_rate=D("605"), ppj_rate=D("0.10"))
    owed = price_purchase(nominal=D("20000"), tariff_rate=D("605"), ppj_rate=D("0.10"), instalment=D("5000"))
    assert owed.instalment == D("5000.00")
    assert owed.energy_value < plain.energy_value
    assert owed.energy_value + owed.ppj + owed.instalment == D("20000")


def test_sum_identity_and_rounding_rules_over_many_random_inputs() -> None:
    rng = random.Random(1234)
    for _ in range(3000):
        nominal = D(rng.randrange(1_000, 60_000_000)) + D(rng.randrange(100)) / 100
        ppj_rate = D(rng.randrange(0, 1001)) / 10000  # 0 .. 10%
        ppn_rate = rng.choice([D("0"), D("0.11"), D("0.12")])
        tariff = D(rng.randrange(30_000, 200_000)) / 100
        stamp = stamp_duty_for(nominal, threshold=D("5000000"), amount=D("10000"))
        instalment = rng.choice([D("0"), D("0"), D("5000"), D("123.45")])
        admin = D(rng.randrange(0, 3501))
        p = price_purchase(
            nominal=nominal,
            tariff_rate=tariff,
            ppj_rate=ppj_rate,
            ppn_rate=ppn_rate,
            admin_fee=admin,
            stamp_duty=stamp,
            instalment=instalment,
        )
        assert p.energy_value + p.ppj + p.ppn + p.stamp_duty + p.instalment == p.nominal
        for amount in (p.energy_value, p.ppj, p.ppn, p.total_paid):
            assert amount == amount.quantize(D("0.01"))
        assert p.total_paid == p.nominal + p.admin_fee
        # kWh: a whole number of 0.1 steps, never more than paid for, and less than one step short.
        assert p.kwh == p.kwh.quantize(D("0.1"))
        assert p.kwh * tariff <= p.energy_value < (p.kwh + D("0.1")) * tariff
        # Each tax is within half a cent of the rate applied to the energy value.
        assert abs(p.ppj - p.energy_value * ppj_rate) <= D("0.01") + ppj_rate
        assert abs(p.ppn - p.energy_value * ppn_rate) <= D("0.01") + ppn_rate


def test_half_up_rounding_of_taxes() -> None:
    price = price_purchase(nominal=D("1.025"), tariff_rate=D("1"), ppj_rate=D("0.025"))
    assert price.nominal == D("1.03")  # the nominal itself is a rupiah amount to the cent, half up
    tiny = price_purchase(nominal=D("2.05"), tariff_rate=D("1"), ppj_rate=D("0.025"))
    assert tiny.ppj == D("0.05")  # 2.0 * 0.025 = 0.05 exactly
    odd = price_purchase(nominal=D("1.41"), tariff_rate=D("1"), ppj_rate=D("0.025"))
    # 1.41 / 1.025 = 1.37560..., x 0.025 = 0.03439 -> 0.03
    assert odd.ppj == D("0.03")
    assert odd.energy_value == D("1.38")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"nominal": D("0")},
        {"nominal": D("-1")},
        {"tariff_rate": D("0")},
        {"ppj_rate": D("-0.01")},
        {"instalment": D("100000")},
        {"stamp_duty": D("60000"), "instalment": D("40000")},
        {"nominal": D("NaN")},
    ],
)
def test_inputs_that_cannot_be_priced(kwargs: dict[str, Decimal]) -> None:
    args = {"nominal": D("100000"), "tariff_rate": D("1444.70"), "ppj_rate": D("0.024"), **kwargs}
    with pytest.raises(PricingError):
        price_purchase(**args)


def test_floats_are_refused() -> None:
    with pytest.raises(PricingError):
        nominal: Any = 100000.0  # what a caller that ignores the annotation would pass
        price_purchase(nominal=nominal, tariff_rate=D("1444.70"), ppj_rate=D("0.024"))


@pytest.mark.parametrize(("va", "limit"), [(450, "324.0"), (900, "648.0"), (1300, "936.0"), (7700, "5544.0")])
def test_monthly_kwh_limit(va: int, limit: str) -> None:
    assert monthly_kwh_limit(va) == D(limit)


class _Rule:
    def __init__(
        self, rate: str, classes: tuple[str, ...] = (), min_va: int = 0, max_va: int | None = None, position: int = 0
    ) -> None:
        self.rate, self.classes, self.min_va, self.max_va, self.position = D(rate), classes, min_va, max_va, position


def test_ppj_rule_selection_prefers_the_most_specific_rule() -> None:
    from setrum_common.pricing import ppj_rate_for

    bogor = [
        _Rule("0.03", ("R1", "R1M"), 900, 1300, 0),
        _Rule("0.05", ("R1",), 2200, 2200, 1),
        _Rule("0.05", ("R2", "B2"), 0, None, 2),
        _Rule("0.06", ("R3",), 0, None, 3),
    ]
    assert ppj_rate_for(bogor, "R1", 1300) == D("0.03")
    assert ppj_rate_for(bogor, "R1M", 900) == D("0.03")
    assert ppj_rate_for(bogor, "R1", 2200) == D("0.05")
    assert ppj_rate_for(bogor, "R3", 7700) == D("0.06")
    assert ppj_rate_for(bogor, "R1", 450) == D("0")  # no rule: no PPJ
    cianjur = [_Rule("0.10"), _Rule("0.03", ("I3", "I4"), position=1)]
    assert ppj_rate_for(cianjur, "R1", 900) == D("0.10")
    assert ppj_rate_for(cianjur, "I3", 300_000) == D("0.03")  # the class rule beats the earlier catch-all
    # Legal caps apply even to a catch-all rule: industry never above 3%.
    assert ppj_rate_for([_Rule("0.10")], "I4", 30_000_000) == D("0.03")
    jakarta = [_Rule("0.024", (), 0, 2200), _Rule("0.03", (), 3500, 5500), _Rule("0.04", (), 6600, None)]
    assert ppj_rate_for(jakarta, "R1", 1300) == D("0.024")
    assert ppj_rate_for(jakarta, "P1", 4400) == D("0.03")
    assert ppj_rate_for(jakarta, "R3", 7700) == D("0.04")
