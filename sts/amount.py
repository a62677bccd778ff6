"""The 16-bit amount field of an STS credit token.

The field is a 2-bit exponent ``e`` (bits 15..14) and a 14-bit mantissa ``m`` (bits 13..0),
counting units of 0.1 kWh::

    value = m * 10**e + sum(2**14 * 10**(i - 1) for i in 1..e)

Encoding (docs/domain.md §STS tokens, confirmed by the published vectors): the amount becomes whole tenths,
rounded *down* (never credit more than was paid for) except below 1 kWh, where it is rounded
*up* so a token never carries nothing. Below 1,638.4 kWh the field is then exact; above it only
every 10th, 100th or 1000th tenth is representable and the mantissa is rounded up
(16,384 kWh is sent as 16,384.4). The largest amount is 1,820,162.4 kWh.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction

__all__ = [
    "MAX_KWH",
    "MAX_TENTHS",
    "decode_amount",
    "encode_amount",
    "encode_tenths",
    "kwh_to_tenths",
    "tenths_to_kwh",
]

_MANTISSA_LIMIT = 1 << 14  # 16384


def _offset(exponent: int) -> int:
    return sum(_MANTISSA_LIMIT * 10 ** (i - 1) for i in range(1, exponent + 1))


MAX_TENTHS = (_MANTISSA_LIMIT - 1) * 10**3 + _offset(3)  # 18,201,624 tenths
MAX_KWH = Decimal(MAX_TENTHS) / 10  # 1,820,162.4 kWh


def kwh_to_tenths(kwh: Decimal | str | int) -> int:
    """Whole 0.1 kWh units for ``kwh``: down from 1 kWh, up below it (1.82 -> 18, 0.4712 -> 5)."""
    try:
        value = Decimal(kwh)
    except ArithmeticError:
        raise ValueError(f"not a number of kWh: {kwh!r}") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"amount must be a positive number of kWh, got {kwh!r}")
    rounding = ROUND_FLOOR if value >= 1 else ROUND_CEILING
    return int((value * 10).to_integral_value(rounding=rounding))


def encode_tenths(tenths: int) -> int:
    """Encode a whole number of 0.1 kWh units into the 16-bit field.

    Each exponent step subtracts 16384 and divides by ten *keeping the fraction*; the
    mantissa is the ceiling of what is left, so the token never carries less than ``tenths``.
    """
    if isinstance(tenths, bool) or not isinstance(tenths, int):
        raise TypeError("tenths must be an int")
    if tenths <= 0:
        raise ValueError("amount must be positive")
    if tenths > MAX_TENTHS:
        raise ValueError(f"amount exceeds the largest token amount ({MAX_KWH} kWh)")
    t = Fraction(tenths)
    exponent = 0
    while t >= _MANTISSA_LIMIT:
        t = (t - _MANTISSA_LIMIT) / 10
        exponent += 1
    mantissa = -(-t.numerator // t.denominator)  # ceiling
    if mantissa == _MANTISSA_LIMIT:
        # 16383.x rounds up to 16384, which is the next exponent's zero mantissa.
        exponent, mantissa = exponent + 1, 0
    if exponent > 3:  # pragma: no cover - excluded by the MAX_TENTHS check
        raise ValueError(f"amount exceeds the largest token amount ({MAX_KWH} kWh)")
    return (exponent << 14) | mantissa


def encode_amount(kwh: Decimal | str | int) -> int:
    """Encode an amount in kWh into the 16-bit field (see the module docstring for rounding)."""
    return encode_tenths(kwh_to_tenths(kwh))


def decode_amount(field: int) -> int:
    """The amount, in 0.1 kWh units, carried by a 16-bit field."""
    if not 0 <= field < 1 << 16:
        raise ValueError("the amount field has 16 bits")
    exponent, mantissa = field >> 14, field & (_MANTISSA_LIMIT - 1)
    scale: int = 10**exponent
    return mantissa * scale + _offset(exponent)


def tenths_to_kwh(tenths: int) -> Decimal:
    """Tenths of a kWh as a one-decimal ``Decimal`` (``675`` -> ``Decimal('67.5')``)."""
    return (Decimal(tenths) / 10).quantize(Decimal("0.1"))
