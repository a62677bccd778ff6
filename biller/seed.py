"""Load the demo meter register from :mod:`setrum_common.demo_data`, idempotently.

Only missing meters are added: a meter already in the register keeps its status, key
parameters and, above all, its ``last_tid``.
"""

from __future__ import annotations

from sqlalchemy import select, update

from setrum_common import demo_data
from setrum_common.db import Database

from .models import BillerMeter

__all__ = ["seed_meter_register"]


async def seed_meter_register(db: Database) -> int:
    """Add the demo meters that are missing; returns how many were added. A demo meter registered
    before the register kept tariffs gets its tariff class and power."""
    async with db.transaction() as session:
        rows = (await session.execute(select(BillerMeter.number, BillerMeter.tariff_code))).all()
        present = {number: tariff for number, tariff in rows}
        added = 0
        for demo in demo_data.METERS:
            if demo.number in present:
                if present[demo.number] is None:
                    await session.execute(
                        update(BillerMeter)
                        .where(BillerMeter.number == demo.number)
                        .values(tariff_code=demo.tariff_code, power_va=demo.power_va)
                    )
                continue
            session.add(
                BillerMeter(
                    number=demo.number,
                    iin=demo_data.STS_IIN,
                    supply_group_code=demo_data.STS_SUPPLY_GROUP,
                    tariff_index=demo_data.STS_TARIFF_INDEX,
                    key_type=demo_data.STS_KEY_TYPE,
                    key_revision=demo_data.STS_KEY_REVISION,
                    base_date=demo.sts_base_date,
                    status=demo.status,
                    tariff_code=demo.tariff_code,
                    power_va=demo.power_va,
                )
            )
            added += 1
    return added
