"""PLN identifiers: 11-digit meter numbers (Luhn check digit) and 12-digit IDPEL customer ids."""

from __future__ import annotations

__all__ = ["luhn_check_digit", "luhn_valid", "METER_NUMBER_DIGITS", "IDPEL_DIGITS"]

METER_NUMBER_DIGITS = 11
IDPEL_DIGITS = 12


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions are doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]
