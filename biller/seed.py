"""Load the demo meter register from :mod:`setrum_common.demo_data`, idempotently.

Only missing meters are added: a meter already in the register keeps its status, key
parameters and, above all, its ``last_tid``.
"""

from __future__ import annotations

from sqlalchemy import select

from setrum_common import demo_data
from setrum_common.db import Database

from .models import BillerMeter

__all__ = ["seed_meter_register"]


async def seed_meter_register(db: Database) -> int:
    """Add the demo meters that are missing; returns how many were added."""
    async with db.transaction() as session:
        present = set((await session.execute(select(BillerMeter.number))).scalars())
        added = 0
        for demo in demo_data.METERS:
            if demo.number in present:
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
                )
            )
            added += 1
    return added
