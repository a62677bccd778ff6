"""Proving the books add up: balance == sum(ledger) per wallet, every top-up credit is exactly one
provider payment, usage == sum(kWh) per meter-month."""

from __future__ import annotations

from dataclasses import dataclass

from setrum_common.db import Database

from .. import repository as repo

__all__ = ["ReconciliationReport", "reconcile"]


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    wallets_checked: int
    wallet_mismatches: list[repo.WalletMismatch]
    usage_mismatches: list[repo.UsageMismatch]
    payment_mismatches: list[repo.PaymentMismatch]

    @property
    def ok(self) -> bool:
        return not self.wallet_mismatches and not self.usage_mismatches and not self.payment_mismatches


async def reconcile(db: Database) -> ReconciliationReport:
    """Prove balance == sum(ledger) for every wallet and usage == sum(kWh) for every meter-month."""
    async with db.session() as session:
        checked, wallets = await repo.reconcile_wallets(session)
        usage = await repo.reconcile_usage(session)
        payments = await repo.reconcile_payments(session)
    return ReconciliationReport(checked, wallets, usage, payments)
