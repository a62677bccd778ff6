"""Per-request DataLoaders: many entity references, one SELECT each (no N+1)."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from setrum_common.clock import utc_now
from setrum_common.service_app import ServiceContext

from .. import repository as repo
from ..models import PpjRule, SavedMeter

__all__ = ["meter_loader", "ppj_rules_loader", "saved_meters_loader"]


def meter_loader(context: ServiceContext) -> DataLoader[str, repo.MeterFacts | None]:
    """Meters by number, each with the tariff in effect now and its region (one SELECT per batch)."""

    async def load(numbers: list[str]) -> list[repo.MeterFacts | None]:
        async with context.db.connection(one_statement=True) as conn:  # one select of plain rows
            found = await repo.load_meter_facts(conn, numbers=set(numbers), at=utc_now())
        by_number = {f.meter.number: f for f in found}
        return [by_number.get(n) for n in numbers]

    return context.loader("master.meter", load)


def ppj_rules_loader(context: ServiceContext) -> DataLoader[str, list[PpjRule]]:
    async def load(codes: list[str]) -> list[list[PpjRule]]:
        async with context.db.reads() as session:
            rules = await repo.load_ppj_rules(session, set(codes))
        return [rules.get(c, []) for c in codes]

    return context.loader("master.ppj_rules", load)


def saved_meters_loader(context: ServiceContext) -> DataLoader[str, list[SavedMeter]]:
    async def load(customer_ids: list[str]) -> list[list[SavedMeter]]:
        async with context.db.reads() as session:
            saved = await repo.load_saved_meters(session, set(customer_ids))
        return [saved.get(c, []) for c in customer_ids]

    return context.loader("master.saved_meters", load)
