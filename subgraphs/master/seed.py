"""Load the shared demo data set (``setrum_common.demo_data``) idempotently.

Every row is inserted only when its natural key is missing, so seeding twice (or seeding a
database an admin has since edited) never duplicates or overwrites anything.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from setrum_common import demo_data as demo
from setrum_common.db import Database

from .models import Channel, Denomination, Meter, PpjRule, Region, SavedMeter, StampDutyRule, Tariff

__all__ = ["seed_demo_data"]

_TARIFF_START = datetime.combine(demo.TARIFF_EFFECTIVE_FROM, datetime.min.time(), tzinfo=UTC)


async def _seed_once(db: Database) -> None:
    async with db.transaction() as session:
        regions = set((await session.execute(select(Region.code))).scalars())
        missing = [r for r in demo.REGIONS if r.code not in regions]
        session.add_all(Region(code=r.code, name=r.name) for r in missing)
        await session.flush()  # no ORM relationships: rows go in only after their region
        for region in missing:
            rules = [r for r in demo.PPJ_RULES if r.region == region.code]
            for position, rule in enumerate(rules):
                session.add(
                    PpjRule(
                        region_code=region.code,
                        rate=rule.rate,
                        tariff_classes=",".join(rule.tariff_classes),
                        min_va=rule.min_va,
                        max_va=rule.max_va,
                        position=position,
                    )
                )
        await session.flush()

        series = {(c, v) for c, v in await session.execute(select(Tariff.code, Tariff.min_va))}
        for t in demo.TARIFFS:
            if (t.code, t.min_va) not in series:
                session.add(
                    Tariff(
                        code=t.code,
                        description=t.description,
                        min_va=t.min_va,
                        max_va=t.max_va,
                        rate=t.rate,
                        ppn_rate=t.ppn_rate,
                        effective_from=_TARIFF_START,
                        effective_to=None,
                    )
                )

        amounts = set((await session.execute(select(Denomination.amount))).scalars())
        for amount in demo.DENOMINATIONS:
            if amount not in amounts:
                session.add(Denomination(amount=amount, active=True))

        channels = set((await session.execute(select(Channel.code))).scalars())
        for code, fee in demo.CHANNEL_ADMIN_FEES.items():
            if code not in channels:
                session.add(Channel(code=code, admin_fee=fee))

        if await session.get(StampDutyRule, 1) is None:
            session.add(StampDutyRule(id=1, threshold=demo.STAMP_DUTY_THRESHOLD, amount=demo.STAMP_DUTY_AMOUNT))

        meters = set((await session.execute(select(Meter.number))).scalars())
        for m in demo.METERS:
            if m.number not in meters:
                session.add(
                    Meter(
                        number=m.number,
                        idpel=m.idpel,
                        holder_name=m.holder_name,
                        tariff_code=m.tariff_code,
                        power_va=m.power_va,
                        region_code=m.region,
                        status=m.status,
                        instalment=m.instalment,
                        instalment_debt=m.instalment_debt,
                    )
                )
        await session.flush()

        saved = {(c, n) for c, n in await session.execute(select(SavedMeter.customer_id, SavedMeter.meter_number))}
        for customer_id, number, alias in demo.SAVED_METERS:
            if (customer_id, number) not in saved:
                session.add(SavedMeter(customer_id=customer_id, meter_number=number, alias=alias))


async def seed_demo_data(db: Database) -> None:
    """Insert whatever part of the demo data set is missing."""
    try:
        await _seed_once(db)
    except IntegrityError:
        # Another process seeded the same rows concurrently (PostgreSQL); the retry sees them.
        await _seed_once(db)
