"""The binding quote between services: master's ``POST /internal/quote``, which transactions asks
before every sale. One pydantic model per direction, used by both sides (and the tests' fake).

Request: ``{"meterNumber": "14233784991", "denomination": "100000", "channel": null,
"instalmentPaid": "0"}`` with a SERVICE token (``instalmentPaid``: what the meter's purchases have
paid towards its instalment debt so far). Answer 200: :class:`InternalQuote`, money and rates as
strings (exact decimals, printed like the GraphQL ``Decimal`` scalar), ints as ints, ``quotedAt`` in ISO 8601. Errors:
``{"error": {"code": <ErrorCode>, "message": ...}}``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, StrictStr, field_validator
from pydantic.alias_generators import to_camel

from .pricing import PriceBreakdown

__all__ = ["INTERNAL_QUOTE_PATH", "InternalQuote", "QuoteRequest"]

INTERNAL_QUOTE_PATH = "/internal/quote"


class _Wire(BaseModel):
    """camelCase on the wire, snake_case in Python; unknown fields are ignored (newer peers)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def _whole_digits(amount: Decimal) -> str:
    """A whole amount as digits ("100000", the form master's amount rule takes), anything else as is."""
    return f"{amount:.0f}" if amount.is_finite() and amount == amount.to_integral_value() else str(amount)


def _exact(value: object, name: str) -> Decimal:
    """Strings or integers only: a JSON float is not an exact amount of money."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{name} must be a decimal string or an integer")
    try:
        return Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise ValueError(f"{name} {value!r} is not a number") from None


class QuoteRequest(_Wire):
    meter_number: StrictStr
    # NaN and the like pass as Decimals: whether an amount is sold is the quote's answer, not a parse error.
    denomination: Annotated[Decimal, Field(allow_inf_nan=True), PlainSerializer(_whole_digits, return_type=str)]
    channel: StrictStr | None = None
    instalment_paid: Annotated[Decimal, PlainSerializer(str, return_type=str)] = Decimal("0")

    @field_validator("denomination", mode="before")
    @classmethod
    def _exact_denomination(cls, value: object) -> Decimal:
        return _exact(value, "denomination")

    @field_validator("instalment_paid", mode="before")
    @classmethod
    def _exact_instalment_paid(cls, value: object) -> Decimal:
        paid = _exact(value, "instalmentPaid")
        if not paid.is_finite() or paid < 0:
            raise ValueError("instalmentPaid must be zero or more")
        return paid


_Iso = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class InternalQuote(_Wire, PriceBreakdown):
    """Everything a sale records from master: the meter, the price breakdown (the fields of
    :class:`~setrum_common.pricing.PriceBreakdown`, camelCase on the wire) and the monthly cap."""

    meter_number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    monthly_kwh_limit: Decimal
    channel: str
    quoted_at: _Iso
    # Instalments: what this purchase pays, the registered debt, and what is left after this one.
    instalment_per_purchase: Decimal
    instalment_debt: Decimal
    instalment_debt_left: Decimal

    @property
    def limit_tenths(self) -> int:
        """The monthly cap in tenths of a kWh."""
        return int((self.monthly_kwh_limit * 10).to_integral_value(rounding=ROUND_FLOOR))

    @property
    def kwh_tenths(self) -> int:
        return int((self.kwh * 10).to_integral_value(rounding=ROUND_FLOOR))
