"""One validation for every field that takes an amount of rupiah (denominations, top-ups, fees).

An amount is written as digits only (``"100000"``) or exactly as the API itself writes money
(``"100000.00"``: two decimals, both zero), so a client can send back an amount it was shown (a
denomination from ``denominations``); it is a whole number of rupiah and lies in the field's range.
Each way to get it wrong has its own error code, the same from every field and every service, so
``quote`` and ``purchaseToken`` answer a bad denomination identically:

- ``AMOUNT_NOT_DIGITS``: a sign, an exponent (``"1e5"``), a whole amount written with other than two
  decimals (``"20000.0"``) or anything else that is not plain digits;
- ``AMOUNT_NOT_WHOLE_RUPIAH``: a fraction of a rupiah (``"20000.5"``);
- ``AMOUNT_OUT_OF_RANGE``: zero where zero is not allowed, or above the field's maximum.

GraphQL hands us a ``Decimal`` parsed from the client's text; its sign and exponent still tell how
the amount was written (``Decimal("1e5")`` has exponent 5, ``Decimal("100000")`` exponent 0), which
is what the first two rules look at.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import DomainError, ErrorCode

__all__ = ["MAX_DENOMINATION", "whole_rupiah"]

MAX_DENOMINATION = Decimal("1000000000")  # Rp 1 billion: above every token PLN sells
_CENTS = Decimal("0.01")
_API_EXPONENT = _CENTS.as_tuple().exponent  # how the API writes money: "100000.00"


def whole_rupiah(value: Decimal | str | int, field: str, *, maximum: Decimal, allow_zero: bool = False) -> Decimal:
    """``value`` as rupiah with two decimals (how money is stored), or a coded :class:`DomainError`."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = Decimal("NaN")
    if isinstance(value, bool) or not amount.is_finite() or amount.is_signed():
        raise _not_digits(value, field)
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < 0 and amount != amount.to_integral_value():
        raise DomainError(
            ErrorCode.AMOUNT_NOT_WHOLE_RUPIAH, f"{field} must be a whole number of rupiah, not {value}", field=field
        )
    if exponent not in (0, _API_EXPONENT):
        raise _not_digits(value, field)
    low = 0 if allow_zero else 1
    if amount < low or amount > maximum:
        raise DomainError(
            ErrorCode.AMOUNT_OUT_OF_RANGE, f"{field} must be between {low} and {maximum:,.0f} rupiah", field=field
        )
    return amount.quantize(_CENTS)


def _not_digits(value: object, field: str) -> DomainError:
    return DomainError(
        ErrorCode.AMOUNT_NOT_DIGITS, f"{field} must be written as digits only (e.g. 100000), not {value}", field=field
    )
