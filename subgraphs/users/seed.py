"""Demo customers from :mod:`setrum_common.demo_data`, inserted once (safe to run again).

The ids are fixed, so other subgraphs' demo rows (saved meters, wallets) point at these customers.
All demo accounts share ``DEMO_PASSWORD``; seeding is for development only (``USERS_SEED_DEMO_DATA``).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.demo_data import CUSTOMERS, DEMO_PASSWORD

from .models import Customer
from .passwords import Passwords

__all__ = ["seed_demo_customers"]


async def seed_demo_customers(db: Database, passwords: Passwords) -> int:
    """Insert the demo customers that are missing (by id or email); returns how many were added."""
    async with db.session() as session:
        existing = await session.execute(
            select(Customer.id, Customer.email).where(
                Customer.id.in_([c.id for c in CUSTOMERS]) | Customer.email.in_([c.email for c in CUSTOMERS])
            )
        )
        taken = {value for row in existing for value in row}
    missing = [c for c in CUSTOMERS if c.id not in taken and c.email not in taken]
    if not missing:
        return 0
    hashes = [await passwords.hash(DEMO_PASSWORD) for _ in missing]  # hashed before taking the write lock
    base = utc_now()
    try:
        async with db.transaction(write=True) as session:
            for offset, (demo, password_hash) in enumerate(zip(missing, hashes, strict=True)):
                created = base + timedelta(microseconds=offset)  # keeps the demo list's order
                session.add(
                    Customer(
                        id=demo.id,
                        name=demo.name,
                        email=demo.email.strip().lower(),
                        phone=demo.phone,
                        role=demo.role,
                        password_hash=password_hash,
                        created_at=created,
                        updated_at=created,
                    )
                )
    except IntegrityError:
        return 0  # another process seeded at the same moment
    return len(missing)
