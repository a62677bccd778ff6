"""The monthly kWh cap of a prepaid meter, the one rule master quotes and transactions enforces:
a meter may receive at most ``VA / 1000 × 720`` kWh a calendar month (900 VA -> 648.0 kWh)."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["monthly_kwh_limit", "monthly_limit_tenths"]

_TENTH = Decimal("0.1")


def monthly_limit_tenths(power_va: int) -> int:
    """The cap in tenths of a kWh, rounded down: ``VA × 7.2``."""
    return power_va * 72 // 10


def monthly_kwh_limit(power_va: int) -> Decimal:
    """The cap in kWh, exact to 0.1 kWh (rounded down)."""
    return (Decimal(monthly_limit_tenths(power_va)) * _TENTH).quantize(_TENTH)
