"""The binding quote: the full price breakdown of a token purchase at the quote time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.kwh_limit import monthly_kwh_limit
from setrum_common.money import MAX_DENOMINATION, whole_rupiah
from setrum_common.pricing import PriceBreakdown, PricingError, ppj_rate_for, price_purchase, stamp_duty_for
from setrum_common.quote_contract import InternalQuote

from .. import repository as repo
from ..identifiers import IdentifierKind
from ..sales_state import SalesState
from .inputs import BLOCKED, at_or_now, bad_input, parse_number, unknown_meter

__all__ = ["Quote", "as_internal_quote", "instalment_due", "quote"]


@dataclass(frozen=True, slots=True)
class Quote:
    facts: repo.MeterFacts
    tariff: repo.TariffRecord
    channel: str
    price: PriceBreakdown
    monthly_kwh_limit: Decimal
    quoted_at: datetime
    instalment_debt_left: Decimal  # after this purchase
    sales: SalesState | None = None  # what transactions and the biller know (public quotes only)


def instalment_due(per_purchase: Decimal, debt: Decimal, paid: Decimal) -> Decimal:
    """What a purchase pays towards the debt: the fixed instalment, never more than is left."""
    return max(min(per_purchase, debt - paid), Decimal("0"))


async def quote(
    db: Database,
    meter_number: str,
    denomination: Decimal,
    channel: str | None,
    *,
    default_channel: str,
    at: datetime | None = None,
    instalment_paid: Decimal = Decimal("0"),
    sales_lookup: Callable[[str, int], Awaitable[SalesState | None]] | None = None,
) -> Quote:
    """The full price breakdown for buying ``denomination`` for a meter through ``channel``.

    The one implementation behind the GraphQL ``quote`` field and master's internal
    ``POST /internal/quote`` (what transactions asks before it sells): one select, no ORM.
    ``instalment_paid`` is what the meter's buyers already paid towards its instalment debt (the
    seller counts it); ``sales_lookup``, when given, fetches it with the month's kWh and the key
    state, so the quote refuses what the sale would refuse (public quotes)."""
    quoted_at = at_or_now(at)
    denomination = whole_rupiah(denomination, "denomination", maximum=MAX_DENOMINATION)
    number = parse_number(meter_number)
    channel_code = (channel or default_channel).strip()
    by_number = number.kind is IdentifierKind.METER_NUMBER
    found = await db.run(  # one select, in one greenlet
        repo.read_quote_facts,
        number.value if by_number else None,
        None if by_number else number.value,
        channel_code,
        denomination,
        quoted_at,
        one_statement=True,
    )
    if found is None:
        raise unknown_meter(number)
    facts = found.facts
    meter, tariff = facts.meter, facts.tariff
    if meter.status == BLOCKED:
        raise DomainError(ErrorCode.CUSTOMER_BLOCKED, f"Meter {meter.number} is blocked: no tokens can be sold")
    if tariff is None:
        raise DomainError(
            ErrorCode.PRODUCT_UNAVAILABLE, f"No tariff {meter.tariff_code}/{meter.power_va}VA is in effect"
        )
    if found.admin_fee is None:
        raise bad_input(f"Unknown sales channel {channel_code!r}")
    if not found.denomination_active:
        raise DomainError(ErrorCode.PRODUCT_UNAVAILABLE, f"Denomination {denomination} is not sold")
    nominal = denomination  # the stored amount (2 decimals) the join matched
    sales = None if sales_lookup is None else await sales_lookup(meter.number, meter.power_va)
    if sales is not None:
        instalment_paid = sales.instalment_paid
    due = instalment_due(meter.instalment, meter.instalment_debt, instalment_paid)
    stamp_duty = (
        stamp_duty_for(nominal, threshold=found.stamp_threshold, amount=found.stamp_amount)
        if found.stamp_threshold is not None and found.stamp_amount is not None
        else Decimal("0")
    )
    try:
        price = price_purchase(
            nominal=nominal,
            tariff_rate=tariff.rate,
            ppj_rate=ppj_rate_for(found.ppj_rules, meter.tariff_code, meter.power_va),
            ppn_rate=tariff.ppn_rate,
            admin_fee=found.admin_fee,
            stamp_duty=stamp_duty,
            instalment=due,
        )
    except PricingError as error:
        raise DomainError(
            ErrorCode.PRODUCT_UNAVAILABLE, f"Denomination {denomination} cannot be sold: {error}"
        ) from None
    if sales is not None:
        sales.refuse_beyond_cap(meter.number, price.kwh)
    left = max(meter.instalment_debt - instalment_paid - due, Decimal("0"))
    return Quote(facts, tariff, channel_code, price, monthly_kwh_limit(meter.power_va), quoted_at, left, sales)


def as_internal_quote(quote: Quote) -> InternalQuote:
    """The quote's printed fields: what ``POST /internal/quote`` answers and the GraphQL ``Quote`` shows."""
    meter = quote.facts.meter
    return InternalQuote(
        **dict(quote.price),
        meter_number=meter.number,
        idpel=meter.idpel,
        holder_name=meter.holder_name,
        tariff_code=meter.tariff_code,
        power_va=meter.power_va,
        region_code=meter.region_code,
        monthly_kwh_limit=quote.monthly_kwh_limit,
        channel=quote.channel,
        quoted_at=quote.quoted_at,
        instalment_debt_left=quote.instalment_debt_left,
        instalment_per_purchase=meter.instalment,
        instalment_debt=meter.instalment_debt,
    )
