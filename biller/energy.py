"""How much energy the money of a sale buys: the biller's own answer, never the seller's.

The seller (transactions) sends the nominal and the receipt's deductions (PPJ, PPN, stamp duty,
instalment) with the kWh it expects. The biller prices the energy value with its own copy of
PLN's tariff table and the shared rule of :func:`setrum_common.pricing.kwh_for`, and refuses a
sale whose figures disagree (docs/domain.md §The biller). The deductions only ever lower the
energy; PPN must be the tariff's own and PPJ within the legal cap, so no figure a caller sends can
buy more energy than the money pays for at the meter's tariff.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from setrum_common import demo_data
from setrum_common.pricing import CENT, MAX_INDUSTRY_PPJ_RATE, MAX_PPJ_RATE, is_industry, kwh_for

__all__ = ["BillerTariff", "EnergyMismatch", "SaleFigures", "sold_tenths", "tariff_for"]

# A tax printed on the receipt is rounded to the cent from the exact energy value, which differs
# from the printed (remainder) energy value by at most a cent: allow two.
_TAX_TOLERANCE = Decimal("0.02")


class EnergyMismatch(ValueError):
    """The sale's figures disagree with what the biller computes; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class BillerTariff:
    code: str
    min_va: int
    max_va: int | None
    rate: Decimal  # Rp/kWh
    ppn_rate: Decimal


# PLN's published tariff table (docs/domain.md §Tariffs and power classes), the same figures
# master is seeded with; the biller keeps its own copy and never asks master.
TARIFFS: tuple[BillerTariff, ...] = tuple(
    BillerTariff(t.code, t.min_va, t.max_va, t.rate, t.ppn_rate) for t in demo_data.TARIFFS
)


def tariff_for(code: str, power_va: int) -> BillerTariff | None:
    """The tariff of a class and power band, or None."""
    for tariff in TARIFFS:
        if tariff.code == code and tariff.min_va <= power_va and (tariff.max_va is None or power_va <= tariff.max_va):
            return tariff
    return None


@dataclass(frozen=True, slots=True)
class SaleFigures:
    """What the seller says it was paid and deducted; every value a non-negative rupiah amount."""

    amount: Decimal  # the nominal
    ppj: Decimal = Decimal("0")
    ppn: Decimal = Decimal("0")
    stamp_duty: Decimal = Decimal("0")
    instalment: Decimal = Decimal("0")


def sold_tenths(tariff: BillerTariff, figures: SaleFigures) -> int:
    """The energy, in 0.1 kWh, that ``figures`` buy at ``tariff``; raises :class:`EnergyMismatch`."""
    for name, value in _named(figures):
        if value < 0 or value != value.quantize(CENT):
            raise EnergyMismatch("AMOUNT_MISMATCH", f"{name} must be a non-negative amount with at most 2 decimals")
    energy_value = figures.amount - figures.ppj - figures.ppn - figures.stamp_duty - figures.instalment
    if energy_value <= 0:
        raise EnergyMismatch("AMOUNT_MISMATCH", "the amount does not cover its taxes and deductions")
    if abs(figures.ppn - (energy_value * tariff.ppn_rate).quantize(CENT)) > _TAX_TOLERANCE:
        raise EnergyMismatch("TAX_MISMATCH", f"PPN must be {tariff.ppn_rate} of the energy value for {tariff.code}")
    cap = MAX_INDUSTRY_PPJ_RATE if is_industry(tariff.code) else MAX_PPJ_RATE
    if figures.ppj > (energy_value * cap).quantize(CENT) + _TAX_TOLERANCE:
        raise EnergyMismatch("TAX_MISMATCH", f"PPJ above the legal cap of {cap}")
    tenths = int(kwh_for(energy_value, tariff.rate) * 10)
    if tenths < 1:
        raise EnergyMismatch("AMOUNT_MISMATCH", "the amount buys no energy")
    return tenths


def _named(figures: SaleFigures) -> tuple[tuple[str, Decimal], ...]:
    return (
        ("amount", figures.amount), ("ppj", figures.ppj), ("ppn", figures.ppn),
        ("stampDuty", figures.stamp_duty), ("instalment", figures.instalment),
    )  # fmt: skip
