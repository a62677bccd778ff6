"""Write side: saved meters (signed-in customers) and master-data upkeep (ADMIN or SERVICE only)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.schema_access import ADMIN_ONLY, SIGNED_IN

from ..service import lookup, saved_meters, upkeep
from .entities import MeterType, SavedMeterType
from .types import ChannelType, DenominationType, Info, MeterStatus, RegionType, StampDutyRuleType, TariffType

__all__ = ["MasterMutation"]


@strawberry.input(description="A new version of a tariff; it closes the versions it supersedes.")
class TariffInput:
    code: str
    rate: Decimal = strawberry.field(description="Rp per kWh, positive, at most 2 decimals.")
    min_va: int = 0
    max_va: int | None = None
    ppn_rate: Decimal = strawberry.field(default=Decimal("0"), description="Fraction, 0 (exempt) to 0.15.")
    description: str = ""
    effective_from: datetime | None = strawberry.field(default=None, description="Default: now.")


@strawberry.input
class PpjRuleInput:
    rate: Decimal = strawberry.field(description="Fraction, 0 to 0.10 (industry classes at most 0.03).")
    tariff_classes: list[str] = strawberry.field(default_factory=list)
    min_va: int = 0
    max_va: int | None = None


@strawberry.input(description="A region and ALL its PPJ rules (they replace the current ones).")
class RegionInput:
    code: str
    name: str
    ppj_rules: list[PpjRuleInput]


@strawberry.input(description="Register a meter or correct its record.")
class MeterInput:
    number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    region_code: str
    instalment: Decimal = strawberry.field(
        default=Decimal("0"), description="Instalment (angsuran) taken from each purchase, whole rupiah."
    )
    instalment_debt: Decimal = strawberry.field(
        default=Decimal("0"), description="Instalment debt registered for the meter; purchases pay it down."
    )


async def _meter(info: Info, number: str) -> MeterType:
    facts = await lookup.find_meter(info.context.db, number)
    if facts is None:  # just written, so only a concurrent delete gets here
        raise DomainError(ErrorCode.NOT_FOUND, f"Meter {number} is not registered")
    return MeterType.from_facts(facts)


@strawberry.type(name="Mutation")
class MasterMutation:
    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Save a meter (by number or IDPEL) to your list; saving again updates the alias.",
    )
    async def save_meter(self, info: Info, number: str, alias: str | None = None) -> SavedMeterType:
        row = await saved_meters.save_meter(info.context.db, info.context.viewer, number, alias)
        return SavedMeterType.from_model(row)

    @strawberry.mutation(
        directives=SIGNED_IN, description="Remove a meter from your list; false when it was not saved."
    )
    async def remove_meter(self, info: Info, number: str) -> bool:
        return await saved_meters.remove_meter(info.context.db, info.context.viewer, number)

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: start a new effective-dated tariff version.")
    async def upsert_tariff(self, info: Info, input: TariffInput) -> TariffType:
        data = upkeep.TariffFields(
            code=input.code,
            rate=input.rate,
            min_va=input.min_va,
            max_va=input.max_va,
            ppn_rate=input.ppn_rate,
            description=input.description,
            effective_from=input.effective_from,
        )
        return TariffType.from_model(await upkeep.upsert_tariff(info.context.db, info.context.viewer, data))

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: create a region or replace its name and PPJ rules.")
    async def upsert_region(self, info: Info, input: RegionInput) -> RegionType:
        rules = [
            upkeep.PpjRuleFields(rate=r.rate, tariff_classes=r.tariff_classes, min_va=r.min_va, max_va=r.max_va)
            for r in input.ppj_rules
        ]
        row = await upkeep.upsert_region(info.context.db, info.context.viewer, input.code, input.name, rules)
        return RegionType.from_model(row)

    @strawberry.mutation(
        directives=ADMIN_ONLY, description="ADMIN: offer a denomination (re-activates a withdrawn one)."
    )
    async def add_denomination(self, info: Info, amount: Decimal) -> DenominationType:
        return DenominationType.from_model(await upkeep.add_denomination(info.context.db, info.context.viewer, amount))

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: withdraw a denomination from sale.")
    async def deactivate_denomination(self, info: Info, amount: Decimal) -> DenominationType:
        row = await upkeep.deactivate_denomination(info.context.db, info.context.viewer, amount)
        return DenominationType.from_model(row)

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: set (or create) a sales channel's admin fee.")
    async def set_channel_admin_fee(self, info: Info, channel: str, admin_fee: Decimal) -> ChannelType:
        row = await upkeep.set_channel_admin_fee(info.context.db, info.context.viewer, channel, admin_fee)
        return ChannelType.from_model(row)

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: stamp duty charged on purchases above a threshold.")
    async def set_stamp_duty(self, info: Info, threshold: Decimal, amount: Decimal) -> StampDutyRuleType:
        row = await upkeep.set_stamp_duty(info.context.db, info.context.viewer, threshold, amount)
        return StampDutyRuleType.from_model(row)

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: block or unblock a meter.")
    async def set_meter_status(self, info: Info, number: str, status: MeterStatus) -> MeterType:
        meter_number = await upkeep.set_meter_status(info.context.db, info.context.viewer, number, status.value)
        return await _meter(info, meter_number)

    @strawberry.mutation(directives=ADMIN_ONLY, description="ADMIN: register a meter or correct its record.")
    async def upsert_meter(self, info: Info, input: MeterInput) -> MeterType:
        data = upkeep.MeterFields(
            number=input.number,
            idpel=input.idpel,
            holder_name=input.holder_name,
            tariff_code=input.tariff_code,
            power_va=input.power_va,
            region_code=input.region_code,
            instalment=input.instalment,
            instalment_debt=input.instalment_debt,
        )
        return await _meter(info, await upkeep.upsert_meter(info.context.db, info.context.viewer, data))
