"""Price and kWh of a token purchase (docs/domain.md §Price and kWh), as pure functions: no I/O, Decimal only.

Shared by master (the quote) and the biller (which checks the energy it sells against the money).

The receipt convention: taxes are computed on the energy value ("stroom"), so the energy value
is found by dividing the net amount by ``1 + ppj_rate + ppn_rate``. Each tax is rounded to the
cent (half up) and the energy value is taken as the *remainder*, so the printed amounts add up
exactly: ``nominal = stroom + ppj + ppn + stamp_duty + instalment``. kWh is credited in 0.1 kWh
steps rounded down — never credit more energy than was paid for.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Protocol

from pydantic import BaseModel, ConfigDict

__all__ = [
    "plain",
    "CENT",
    "KWH_STEP",
    "MAX_INDUSTRY_PPJ_RATE",
    "MAX_PPJ_RATE",
    "PriceBreakdown",
    "PpjRuleLike",
    "PricingError",
    "is_industry",
    "kwh_for",
    "ppj_rate_for",
    "price_purchase",
    "stamp_duty_for",
]

CENT = Decimal("0.01")
KWH_STEP = Decimal("0.1")
_ZERO = Decimal("0")
# Ample precision for rupiah up to 10^15 with rates to 10^-6; independent of the caller's context.
_CONTEXT = Context(prec=40)


class PricingError(ValueError):
    """The inputs cannot be priced (negative amounts, or the nominal does not cover the deductions)."""


class PriceBreakdown(BaseModel):
    """Every figure of the receipt. Rupiah amounts have 2 decimals, kWh one, rates are fractions without
    trailing zeros. A pydantic model so the quote contract between services (``quote_contract.InternalQuote``)
    extends it instead of writing the fields again."""

    model_config = ConfigDict(frozen=True)

    nominal: Decimal
    admin_fee: Decimal
    stamp_duty: Decimal
    instalment: Decimal
    ppj_rate: Decimal
    ppj: Decimal
    ppn_rate: Decimal
    ppn: Decimal
    energy_value: Decimal
    tariff_rate: Decimal
    kwh: Decimal
    total_paid: Decimal


def plain(value: Decimal) -> Decimal:
    """A rate without trailing zeros and never in exponent form ("0.024", "0.11", "0")."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent  # "n"/"N"/"F" for NaN and infinity
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def stamp_duty_for(nominal: Decimal, *, threshold: Decimal, amount: Decimal) -> Decimal:
    """Bea meterai: ``amount`` on a purchase strictly above ``threshold``, else nothing."""
    return _money(amount) if nominal > threshold else _money(_ZERO)


def kwh_for(energy_value: Decimal, tariff_rate: Decimal) -> Decimal:
    """The energy an energy value buys at ``tariff_rate`` Rp/kWh, rounded down to 0.1 kWh.

    The one rule master's quote and the biller's own check share (docs/domain.md §Price and kWh)."""
    with localcontext(_CONTEXT):
        return (energy_value / tariff_rate).quantize(KWH_STEP, rounding=ROUND_DOWN)


def price_purchase(
    *,
    nominal: Decimal,
    tariff_rate: Decimal,
    ppj_rate: Decimal,
    ppn_rate: Decimal = _ZERO,
    admin_fee: Decimal = _ZERO,
    stamp_duty: Decimal = _ZERO,
    instalment: Decimal = _ZERO,
) -> PriceBreakdown:
    """Break ``nominal`` down into energy value, taxes and deductions, and the kWh it buys.

    ``ppj_rate`` and ``ppn_rate`` are fractions (``Decimal("0.024")`` for 2.4%);
    ``tariff_rate`` is Rp/kWh. Raises :class:`PricingError` for inputs that cannot be priced.
    """
    for name, value in (
        ("nominal", nominal),
        ("tariff_rate", tariff_rate),
        ("ppj_rate", ppj_rate),
        ("ppn_rate", ppn_rate),
        ("admin_fee", admin_fee),
        ("stamp_duty", stamp_duty),
        ("instalment", instalment),
    ):
        if not isinstance(value, Decimal) or not value.is_finite():
            raise PricingError(f"{name} must be a finite Decimal, got {value!r}")
        if value < 0:
            raise PricingError(f"{name} must not be negative")
    if nominal <= 0:
        raise PricingError("nominal must be positive")
    if tariff_rate <= 0:
        raise PricingError("tariff_rate must be positive")

    with localcontext(_CONTEXT):
        nominal = _money(nominal)
        admin_fee = _money(admin_fee)
        stamp_duty = _money(stamp_duty)
        instalment = _money(instalment)
        net = nominal - stamp_duty - instalment
        if net <= 0:
            raise PricingError(f"nominal {nominal} does not cover stamp duty {stamp_duty} and instalment {instalment}")
        exact_stroom = net / (1 + ppj_rate + ppn_rate)
        ppj = _money(exact_stroom * ppj_rate)
        ppn = _money(exact_stroom * ppn_rate)
        energy_value = net - ppj - ppn  # the remainder, so the receipt adds up to the cent
        kwh = kwh_for(energy_value, tariff_rate)
        return PriceBreakdown(
            nominal=nominal,
            admin_fee=admin_fee,
            stamp_duty=stamp_duty,
            instalment=instalment,
            ppj_rate=plain(ppj_rate),
            ppj=ppj,
            ppn_rate=plain(ppn_rate),
            ppn=ppn,
            energy_value=energy_value,
            tariff_rate=tariff_rate,
            kwh=kwh,
            total_paid=nominal + admin_fee,
        )


class PpjRuleLike(Protocol):
    """What :func:`ppj_rate_for` needs of a PPJ rule (the ORM row satisfies it)."""

    @property
    def rate(self) -> Decimal: ...
    @property
    def classes(self) -> tuple[str, ...]: ...
    @property
    def min_va(self) -> int: ...
    @property
    def max_va(self) -> int | None: ...
    @property
    def position(self) -> int: ...


MAX_PPJ_RATE = Decimal("0.10")
MAX_INDUSTRY_PPJ_RATE = Decimal("0.03")


def is_industry(tariff_code: str) -> bool:
    """Industry classes (I-1 … I-4) have the lower legal PPJ cap."""
    return tariff_code.upper().startswith("I")


def ppj_rate_for(rules: Iterable[PpjRuleLike], tariff_code: str, power_va: int) -> Decimal:
    """The region's PPJ rate for a tariff class and power; 0 when no rule applies.

    The most specific matching rule wins: one naming the class beats a catch-all, a narrower
    VA band beats a wider one, then the rule's position. The legal caps (10%, 3% for industry)
    are applied last, so a catch-all rule can never over-tax an industrial meter.
    """
    matching = [
        r
        for r in rules
        if (not r.classes or tariff_code in r.classes)
        and r.min_va <= power_va
        and (r.max_va is None or power_va <= r.max_va)
    ]
    if not matching:
        return _ZERO

    def specificity(rule: PpjRuleLike) -> tuple[int, float, int]:
        width = float("inf") if rule.max_va is None else rule.max_va - rule.min_va
        return (0 if rule.classes else 1, width, rule.position)

    rate = min(matching, key=specificity).rate
    cap = MAX_INDUSTRY_PPJ_RATE if is_industry(tariff_code) else MAX_PPJ_RATE
    return min(rate, cap)
