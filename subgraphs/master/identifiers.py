"""Parse what a buyer types as a customer number: an 11-digit meter number or a 12-digit IDPEL.

A wrong digit count (or anything that is not digits) is its own error, distinct from an
unknown number. The meter number's last digit is a Luhn check digit; a bad one only *warns*
(docs/domain.md §Identifiers): real registers hold a few numbers that fail it, and refusing them would lock
those customers out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from setrum_common.identifiers import IDPEL_DIGITS, METER_NUMBER_DIGITS, luhn_valid

__all__ = ["CustomerNumber", "IdentifierKind", "InvalidCustomerNumber", "parse_customer_number", "parse_meter_number"]


class IdentifierKind(enum.Enum):
    METER_NUMBER = "METER_NUMBER"
    IDPEL = "IDPEL"


class InvalidCustomerNumber(ValueError):
    """Not digits, or not 11 (meter number) / 12 (IDPEL) of them."""


@dataclass(frozen=True, slots=True)
class CustomerNumber:
    kind: IdentifierKind
    value: str
    check_digit_valid: bool  # always True for an IDPEL (it carries no check digit)


def _digits(raw: str) -> str:
    value = raw.strip()
    # isdecimal alone would accept other scripts' digits ("١٢٣"); we want ASCII 0-9 only.
    if not value or not value.isascii() or not value.isdigit():
        raise InvalidCustomerNumber(f"{raw!r} is not a number: use the digits only")
    return value


def parse_customer_number(raw: str) -> CustomerNumber:
    """Classify ``raw`` by its digit count; raise :class:`InvalidCustomerNumber` otherwise."""
    value = _digits(raw)
    if len(value) == METER_NUMBER_DIGITS:
        return CustomerNumber(IdentifierKind.METER_NUMBER, value, luhn_valid(value))
    if len(value) == IDPEL_DIGITS:
        return CustomerNumber(IdentifierKind.IDPEL, value, True)
    raise InvalidCustomerNumber(
        f"{len(value)} digits given: a meter number has {METER_NUMBER_DIGITS}, an IDPEL {IDPEL_DIGITS}"
    )


def parse_meter_number(raw: str) -> CustomerNumber:
    """Like :func:`parse_customer_number` but only an 11-digit meter number is accepted."""
    value = _digits(raw)
    if len(value) != METER_NUMBER_DIGITS:
        raise InvalidCustomerNumber(f"{len(value)} digits given: a meter number has {METER_NUMBER_DIGITS}")
    return CustomerNumber(IdentifierKind.METER_NUMBER, value, luhn_valid(value))
