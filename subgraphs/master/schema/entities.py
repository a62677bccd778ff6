"""Federation entities: ``Meter @key(number)`` (owned) and ``Customer @key(id)`` (contributes ``meters``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.identifiers import METER_NUMBER_DIGITS, luhn_valid
from setrum_common.kwh_limit import monthly_kwh_limit

from .. import models
from ..repository import MeterFacts
from .loaders import meter_loader, saved_meters_loader
from .types import Info, MeterStatus, RegionType, TariffType

__all__ = ["CustomerInMaster", "MeterType", "SavedMeterType"]


@strawberry.federation.type(
    name="Meter", keys=["number"], description="A prepaid meter: public facts of the meter register."
)
class MeterType:
    number: str = strawberry.field(description="The 11-digit meter number (No. Meter).")
    idpel: str = strawberry.field(description="The 12-digit customer id (ID Pelanggan).")
    holder_name: str
    power_va: int
    status: MeterStatus
    monthly_kwh_limit: Decimal = strawberry.field(description="At most VA / 1000 x 720 kWh a calendar month.")
    check_digit_valid: bool
    _facts: strawberry.Private[MeterFacts]

    @strawberry.field(description="The tariff version in effect now for the meter's class and power.")
    def tariff(self) -> TariffType:
        if self._facts.tariff is None:
            meter = self._facts.meter
            raise DomainError(
                ErrorCode.PRODUCT_UNAVAILABLE, f"No tariff {meter.tariff_code}/{meter.power_va}VA is in effect"
            )
        return TariffType.from_model(self._facts.tariff)

    @strawberry.field
    def region(self) -> RegionType:
        return RegionType.from_model(self._facts.region)

    @classmethod
    def from_facts(cls, facts: MeterFacts) -> MeterType:
        meter = facts.meter
        return cls(
            number=meter.number,
            idpel=meter.idpel,
            holder_name=meter.holder_name,
            power_va=meter.power_va,
            status=MeterStatus(meter.status),
            monthly_kwh_limit=monthly_kwh_limit(meter.power_va),
            check_digit_valid=luhn_valid(meter.number),
            _facts=facts,
        )

    @strawberry.field(description="Whether the signed-in customer saved this meter (false when signed out).")
    async def saved_by_me(self, info: Info) -> bool:
        # What transactions' Meter.monthlyUsage requires: a customer reads the usage of the meters
        # they keep (or bought for), nobody else's.
        customer = info.context.viewer.customer_id
        if customer is None:
            return False
        return any(row.meter_number == self.number for row in await saved_meters_loader(info.context).load(customer))

    @classmethod
    async def resolve_reference(cls, info: Info, number: str, **_: Any) -> MeterType | None:
        # Meters are public facts: no viewer check. Unknown numbers resolve to null.
        if len(number) != METER_NUMBER_DIGITS or not number.isdigit():
            return None
        facts = await meter_loader(info.context).load(number)
        return None if facts is None else cls.from_facts(facts)


@strawberry.type(name="SavedMeter", description="A meter a customer keeps in their list, with their own name for it.")
class SavedMeterType:
    alias: str | None
    saved_at: datetime
    _meter_number: strawberry.Private[str]
    _facts: strawberry.Private[MeterFacts | None] = None

    @strawberry.field
    async def meter(self, info: Info) -> MeterType:
        facts = self._facts or await meter_loader(info.context).load(self._meter_number)
        if facts is None:  # the foreign key makes this impossible unless the register is edited by hand
            raise DomainError(ErrorCode.NOT_FOUND, f"Meter {self._meter_number} is no longer registered")
        return MeterType.from_facts(facts)

    @classmethod
    def from_model(cls, row: models.SavedMeter) -> SavedMeterType:
        return cls(alias=row.alias, saved_at=row.saved_at, _meter_number=row.meter_number)


@strawberry.federation.type(name="Customer", keys=["id"])
class CustomerInMaster:
    id: strawberry.ID

    @strawberry.field(description="The meters this customer saved, oldest first.")
    async def meters(self, info: Info) -> list[SavedMeterType]:
        info.context.viewer.require_customer_access(str(self.id))
        rows = await saved_meters_loader(info.context).load(str(self.id))
        return [SavedMeterType.from_model(r) for r in rows]

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID, **_: Any) -> CustomerInMaster:
        # A customer may read only their own saved meters; admins and services read all.
        info.context.viewer.require_customer_access(str(id))
        return cls(id=strawberry.ID(str(id)))
