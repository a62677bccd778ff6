"""Read side: inquiry, quote, meters and master data. Anyone may read; saved meters need a sign-in."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from setrum_common.clock import utc_now
from setrum_common.demo_data import DEFAULT_CHANNEL
from setrum_common.schema_access import SIGNED_IN

from .. import repository as repo
from ..service import lookup, quotes
from ..settings import MasterSettings
from .entities import MeterType, SavedMeterType
from .loaders import saved_meters_loader
from .types import (
    ChannelType,
    DenominationType,
    Info,
    InquiryResult,
    QuoteType,
    RegionType,
    StampDutyRuleType,
    TariffType,
)

__all__ = ["MasterQuery"]


@strawberry.type(name="Query")
class MasterQuery:
    @strawberry.field(
        description=(
            "Look a meter up by its 11-digit number or 12-digit IDPEL. Errors: WRONG_DIGIT_COUNT, "
            "WRONG_CHECK_DIGIT (a meter number whose last digit does not match), WRONG_CUSTOMER_NUMBER "
            "(unknown), CUSTOMER_BLOCKED."
        )
    )
    async def inquiry(self, info: Info, number: str) -> InquiryResult:
        return InquiryResult.from_inquiry(await lookup.inquire(info.context.db, number))

    @strawberry.field(description="A meter by number or IDPEL, whatever its status; null when unknown.")
    async def meter(self, info: Info, number: str) -> MeterType | None:
        facts = await lookup.find_meter(info.context.db, number)
        return None if facts is None else MeterType.from_facts(facts)

    @strawberry.field(
        description=(
            "Price a denomination for a meter through a channel (default: the app), refusing what the "
            "purchase would refuse with the same code. Errors: AMOUNT_NOT_DIGITS, AMOUNT_NOT_WHOLE_RUPIAH, "
            "AMOUNT_OUT_OF_RANGE, PRODUCT_UNAVAILABLE, CUSTOMER_BLOCKED, KWH_LIMIT_EXCEEDED, "
            "WRONG_CUSTOMER_NUMBER, WRONG_CHECK_DIGIT, WRONG_DIGIT_COUNT, BAD_USER_INPUT."
        )
    )
    async def quote(
        self, info: Info, meter_number: str, denomination: Decimal, channel: str | None = None
    ) -> QuoteType:
        settings = info.context.settings
        default_channel = settings.default_channel if isinstance(settings, MasterSettings) else DEFAULT_CHANNEL
        state = info.context.state
        result = await quotes.quote(
            info.context.db, meter_number, denomination, channel, default_channel=default_channel,
            sales_lookup=state.sales.state if state is not None else None,
        )  # fmt: skip
        return QuoteType.from_quote(result)

    @strawberry.field(description="Tariff versions in effect now, or every version with includeHistory.")
    async def tariffs(self, info: Info, include_history: bool = False) -> list[TariffType]:
        async with info.context.db.session() as session:
            rows = await repo.list_tariffs(session, at=None if include_history else utc_now())
        return [TariffType.from_model(r) for r in rows]

    @strawberry.field
    async def regions(self, info: Info) -> list[RegionType]:
        async with info.context.db.session() as session:
            rows = await repo.list_regions(session)
        return [RegionType.from_model(r) for r in rows]

    @strawberry.field(description="Denominations on sale (and withdrawn ones with includeInactive).")
    async def denominations(self, info: Info, include_inactive: bool = False) -> list[DenominationType]:
        async with info.context.db.session() as session:
            rows = await repo.list_denominations(session, include_inactive=include_inactive)
        return [DenominationType.from_model(r) for r in rows]

    @strawberry.field
    async def channels(self, info: Info) -> list[ChannelType]:
        async with info.context.db.session() as session:
            rows = await repo.list_channels(session)
        return [ChannelType.from_model(r) for r in rows]

    @strawberry.field
    async def stamp_duty_rule(self, info: Info) -> StampDutyRuleType | None:
        async with info.context.db.session() as session:
            row = await repo.get_stamp_duty_rule(session)
        return None if row is None else StampDutyRuleType.from_model(row)

    @strawberry.field(
        directives=SIGNED_IN, description="The signed-in customer's saved meters (same as Customer.meters)."
    )
    async def saved_meters(self, info: Info) -> list[SavedMeterType]:
        viewer = info.context.viewer.require_authenticated()
        if viewer.customer_id is None:
            return []
        rows = await saved_meters_loader(info.context).load(viewer.customer_id)
        return [SavedMeterType.from_model(r) for r in rows]
