"""Checks on what callers send: customer numbers, money, rates, codes and power bands."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

from setrum_common.clock import as_utc, utc_now
from setrum_common.errors import DomainError, ErrorCode

from ..identifiers import CustomerNumber, InvalidCustomerNumber, parse_customer_number

__all__ = [
    "ACTIVE",
    "BLOCKED",
    "MAX_AMOUNT",
    "at_or_now",
    "bad_input",
    "checked_band",
    "checked_code",
    "checked_money",
    "checked_rate",
    "parse_number",
    "unknown_meter",
]

ACTIVE = "ACTIVE"
BLOCKED = "BLOCKED"
MAX_AMOUNT = Decimal("1000000000000")  # Rp 1 trillion: far above any token, catches typos
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,15}$")


def bad_input(message: str) -> DomainError:
    return DomainError(ErrorCode.BAD_USER_INPUT, message)


def unknown_meter(number: CustomerNumber) -> DomainError:
    """Not registered; when a meter number's check digit is wrong, say so instead (a typo, most likely)."""
    if not number.check_digit_valid:
        return DomainError(
            ErrorCode.WRONG_CHECK_DIGIT,
            f"Check the number: the last digit of {number.value} does not match (it is a check digit)",
        )
    return DomainError(ErrorCode.WRONG_CUSTOMER_NUMBER, f"No meter or customer is registered under {number.value}")


def parse_number(raw: str) -> CustomerNumber:
    try:
        return parse_customer_number(raw)
    except InvalidCustomerNumber as error:
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, str(error)) from None


def checked_money(value: Decimal, name: str, *, allow_zero: bool) -> Decimal:
    if not value.is_finite():
        raise bad_input(f"{name} must be a number")
    if value < 0 or (value == 0 and not allow_zero):
        raise bad_input(f"{name} must be {'zero or ' if allow_zero else ''}positive")
    if value > MAX_AMOUNT:
        raise bad_input(f"{name} is too large")
    if value != value.quantize(Decimal("0.01")):
        raise bad_input(f"{name} has more than 2 decimals")
    return value.quantize(Decimal("0.01"))  # stored and shown as rupiah to the cent


def checked_rate(value: Decimal, name: str, maximum: Decimal) -> Decimal:
    if not value.is_finite() or value < 0 or value > maximum:
        raise bad_input(f"{name} must be a fraction between 0 and {maximum} (e.g. 0.024 for 2.4%)")
    if value != value.quantize(Decimal("0.000001")):
        raise bad_input(f"{name} has more than 6 decimals")
    return value


def checked_code(value: str, name: str) -> str:
    code = value.strip().upper()
    if not _CODE.match(code):
        raise bad_input(f"{name} must be 1-16 letters, digits or '-' (e.g. R1, R1M, B2)")
    return code


def checked_band(min_va: int, max_va: int | None) -> tuple[int, int | None]:
    if min_va < 0 or (max_va is not None and max_va < min_va):
        raise bad_input("power band must have 0 <= minVa <= maxVa")
    return min_va, max_va


def at_or_now(value: datetime | None) -> datetime:
    """The instant a caller named (a naive one is UTC), or now."""
    return utc_now() if value is None else as_utc(value)
