"""Demo data: opening wallet balances, credited once as development top-ups (idempotent; no payment)."""

from __future__ import annotations

from setrum_common.db import Database
from setrum_common.demo_data import WALLET_OPENING_BALANCES

from .models import LedgerKind
from .service.wallets import credit_once

__all__ = ["seed", "opening_reference"]


def opening_reference(customer_id: str) -> str:
    return f"topup:seed-opening-balance:{customer_id}"


async def seed(db: Database) -> None:
    for customer_id, amount in WALLET_OPENING_BALANCES.items():
        await credit_once(db, customer_id, amount, opening_reference(customer_id), kind=LedgerKind.DEV_TOPUP)
