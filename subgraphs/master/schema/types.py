"""GraphQL value types of the master subgraph (entities live in :mod:`.entities`)."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from setrum_common.pricing import plain
from setrum_common.service_app import ServiceContext

from .. import models
from ..identifiers import IdentifierKind as _IdentifierKind
from ..repository import RegionRecord, TariffRecord
from ..service.lookup import Inquiry as _Inquiry
from ..service.quotes import Quote as _Quote
from ..service.quotes import as_internal_quote
from .loaders import ppj_rules_loader

if TYPE_CHECKING:
    from .entities import MeterType

__all__ = [
    "ChannelType",
    "DenominationType",
    "IdentifierKind",
    "InquiryResult",
    "MeterStatus",
    "PpjRuleType",
    "QuoteType",
    "RegionType",
    "StampDutyRuleType",
    "TariffType",
]

Info = strawberry.Info[ServiceContext, None]
_LazyMeter = Annotated["MeterType", strawberry.lazy("subgraphs.master.schema.entities")]


@strawberry.enum(description="Whether tokens may be sold for a meter.")
class MeterStatus(enum.Enum):
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"


IdentifierKind = strawberry.enum(_IdentifierKind, description="Which identifier an inquiry matched.")


@strawberry.type(name="Tariff", description="One effective-dated version of a tariff's rate (Rp/kWh) for a power band.")
class TariffType:
    id: strawberry.ID
    code: str
    description: str
    min_va: int
    max_va: int | None
    rate: Decimal = strawberry.field(description="Rp per kWh.")
    ppn_applies: bool = strawberry.field(description="Whether PPN (VAT) is charged on this class.")
    ppn_rate: Decimal = strawberry.field(description="PPN as a fraction (0.11 = 11%); 0 when exempt.")
    effective_from: datetime
    effective_to: datetime | None = strawberry.field(description="Exclusive end; null while in effect.")

    @classmethod
    def from_model(cls, row: models.Tariff | TariffRecord) -> TariffType:
        return cls(
            id=strawberry.ID(str(row.id)),
            code=row.code,
            description=row.description,
            min_va=row.min_va,
            max_va=row.max_va,
            rate=row.rate,
            ppn_applies=row.ppn_rate > 0,
            ppn_rate=plain(row.ppn_rate),
            effective_from=row.effective_from,
            effective_to=row.effective_to,
        )


@strawberry.type(
    name="PpjRule", description="A PPJ (regional electricity tax) rate for tariff classes and a power band."
)
class PpjRuleType:
    rate: Decimal = strawberry.field(description="A fraction: 0.024 = 2.4%.")
    tariff_classes: list[str] = strawberry.field(description="Tariff codes it applies to; empty = every class.")
    min_va: int
    max_va: int | None

    @classmethod
    def from_model(cls, row: models.PpjRule) -> PpjRuleType:
        return cls(rate=plain(row.rate), tariff_classes=list(row.classes), min_va=row.min_va, max_va=row.max_va)


@strawberry.type(name="Region", description="A service region (regency/city) and its PPJ rules.")
class RegionType:
    code: str
    name: str

    @strawberry.field(description="The most specific matching rule applies (class-specific, then narrowest band).")
    async def ppj_rules(self, info: Info) -> list[PpjRuleType]:
        rows = await ppj_rules_loader(info.context).load(self.code)
        return [PpjRuleType.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: models.Region | RegionRecord) -> RegionType:
        return cls(code=row.code, name=row.name)


@strawberry.type(name="Denomination")
class DenominationType:
    amount: Decimal
    active: bool

    @classmethod
    def from_model(cls, row: models.Denomination) -> DenominationType:
        return cls(amount=row.amount, active=row.active)


@strawberry.type(name="Channel", description="A sales channel and the admin fee it charges on top of the nominal.")
class ChannelType:
    code: str
    admin_fee: Decimal

    @classmethod
    def from_model(cls, row: models.Channel) -> ChannelType:
        return cls(code=row.code, admin_fee=row.admin_fee)


@strawberry.type(
    name="StampDutyRule", description="Bea meterai: amount charged on purchases whose nominal is above threshold."
)
class StampDutyRuleType:
    threshold: Decimal
    amount: Decimal

    @classmethod
    def from_model(cls, row: models.StampDutyRule) -> StampDutyRuleType:
        return cls(threshold=row.threshold, amount=row.amount)


@strawberry.type(description="What a buyer sees after typing a meter number or IDPEL.")
class InquiryResult:
    meter_number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region: RegionType
    matched_by: _IdentifierKind  # the same class: strawberry.enum() above registers it in place
    check_digit_valid: bool = strawberry.field(
        description="False when the meter number's Luhn check digit is wrong: a warning, not an error."
    )
    _inquiry: strawberry.Private[_Inquiry]

    @strawberry.field
    def meter(self) -> _LazyMeter:
        from .entities import MeterType

        return MeterType.from_facts(self._inquiry.facts)

    @classmethod
    def from_inquiry(cls, inquiry: _Inquiry) -> InquiryResult:
        meter = inquiry.facts.meter
        return cls(
            meter_number=meter.number,
            idpel=meter.idpel,
            holder_name=meter.holder_name,
            tariff_code=meter.tariff_code,
            power_va=meter.power_va,
            region=RegionType.from_model(inquiry.facts.region),
            matched_by=inquiry.matched_by,
            check_digit_valid=inquiry.check_digit_valid,
            _inquiry=inquiry,
        )


KEY_CHANGE_INSTRUCTIONS = (
    "This purchase comes with two key change tokens before the credit token: enter the 1st key change token, "
    "then the 2nd, then the credit token, in that order."
)


@strawberry.type(
    name="KeyChangeNotice", description="The meter needs a new decoder key: its purchase carries the key change tokens."
)
class KeyChangeNoticeType:
    reason: str
    tokens_before_credit: int = strawberry.field(description="Key change tokens to enter before the credit token.")
    instructions: str


@strawberry.type(
    name="Quote",
    description=(
        "A price breakdown (docs/domain.md §Price and kWh): "
        "nominal = energyValue + ppj + ppn + stampDuty + instalment; totalPaid = nominal + adminFee. "
        "Rates are fractions; kWh is rounded down to 0.1."
    ),
)
class QuoteType:
    meter_number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    monthly_kwh_limit: Decimal
    channel: str
    nominal: Decimal
    admin_fee: Decimal
    stamp_duty: Decimal
    instalment: Decimal
    ppj_rate: Decimal
    ppj: Decimal
    ppn_rate: Decimal
    ppn: Decimal
    energy_value: Decimal = strawberry.field(description="The stroom: what buys kWh.")
    tariff_rate: Decimal = strawberry.field(description="Rp/kWh of the tariff version in effect at quotedAt.")
    tariff: TariffType
    kwh: Decimal
    total_paid: Decimal
    quoted_at: datetime
    instalment_debt_left: Decimal = strawberry.field(description="Instalment debt still owed after this purchase.")
    instalment_per_purchase: Decimal = strawberry.field(description="The meter's instalment taken per purchase.")
    instalment_debt: Decimal = strawberry.field(description="The instalment debt registered for the meter.")
    monthly_kwh_remaining: Decimal | None = strawberry.field(
        description="kWh the meter may still receive this month before this purchase (null when unknown)."
    )
    key_change: KeyChangeNoticeType | None = strawberry.field(
        description="Set when the purchase will carry key change tokens (null when none or unknown)."
    )
    _quote: strawberry.Private[_Quote]

    @strawberry.field
    def meter(self) -> _LazyMeter:
        from .entities import MeterType

        return MeterType.from_facts(self._quote.facts)

    @classmethod
    def from_quote(cls, quote: _Quote) -> QuoteType:
        printed = as_internal_quote(quote)  # the same fields the internal route answers
        sales = quote.sales
        return cls(
            **dict(printed),
            tariff=TariffType.from_model(quote.tariff),
            monthly_kwh_remaining=None if sales is None else sales.remaining_kwh,
            key_change=None
            if sales is None or sales.key_change is None
            else KeyChangeNoticeType(
                reason=sales.key_change.reason, tokens_before_credit=2, instructions=KEY_CHANGE_INSTRUCTIONS
            ),
            _quote=quote,
        )
