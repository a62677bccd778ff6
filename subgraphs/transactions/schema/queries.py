"""Root query fields of the transactions subgraph."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from setrum_common.schema_access import ADMIN_ONLY, SIGNED_IN

from .. import biller_reconciliation, models, settlement
from ..service import inputs, lookup, management, operations, purchases, reconciliation, topups, wallets
from .management import ManagementTokenType
from .operations import BillerReconciliationReport, DaySalesType
from .topups import TopUpType, WalletAdjustmentType
from .types import (
    PaymentMismatchType,
    PurchaseType,
    ReconciliationReportType,
    UsageMismatchType,
    WalletMismatchType,
    WalletType,
    tenths,
)

__all__ = ["TransactionsQuery"]

FromDay = Annotated[str, strawberry.argument(name="from", description="first day, YYYY-MM-DD (Asia/Jakarta)")]


async def _fresh(info: strawberry.Info, row: models.Purchase | None) -> models.Purchase | None:
    """A purchase PENDING for longer than a few seconds is re-asked about on read."""
    context = info.context
    if row is not None and lookup.is_stale_pending(row, context.settings):
        row = await purchases.resolve_pending(context.db, context.state, row)
    return row


@strawberry.type(name="Query")
class TransactionsQuery:
    @strawberry.field(directives=SIGNED_IN, description="A purchase by id (own, or any for an admin)")
    async def purchase(self, info: strawberry.Info, id: strawberry.ID) -> PurchaseType | None:
        row = await lookup.purchase_for_viewer(info.context.db, info.context.viewer, str(id))
        row = await _fresh(info, row)
        return PurchaseType.from_row(row) if row is not None else None

    @strawberry.field(directives=SIGNED_IN, description="The viewer's purchase made with this clientReference")
    async def purchase_by_reference(self, info: strawberry.Info, client_reference: str) -> PurchaseType | None:
        row = await lookup.purchase_by_reference(info.context.db, info.context.viewer, client_reference)
        row = await _fresh(info, row)
        return PurchaseType.from_row(row) if row is not None else None

    @strawberry.field(directives=SIGNED_IN, description="The viewer's wallet")
    async def wallet(self, info: strawberry.Info) -> WalletType:
        customer_id = inputs.require_buyer(info.context.viewer)
        return WalletType.from_view(await wallets.wallet_of(info.context.db, customer_id))

    @strawberry.field(directives=SIGNED_IN, description="A top-up by id (own, or any for an admin)")
    async def top_up(self, info: strawberry.Info, id: strawberry.ID) -> TopUpType | None:
        row = await topups.top_up_for_viewer(info.context.db, info.context.viewer, str(id))
        return TopUpType.from_row(row) if row is not None else None

    @strawberry.field(directives=SIGNED_IN, description="The viewer's top-ups, newest first")
    async def top_ups(self, info: strawberry.Info, first: int = 20) -> list[TopUpType]:
        rows = await topups.top_ups_of(info.context.db, info.context.viewer, first)
        return [TopUpType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: the wallet adjustment audit log, newest first (one customer's or all)",
    )
    async def wallet_adjustments(
        self, info: strawberry.Info, customer_id: strawberry.ID | None = None, first: int = 50
    ) -> list[WalletAdjustmentType]:
        rows = await wallets.adjustments(
            info.context.db, info.context.viewer, None if customer_id is None else str(customer_id), first
        )
        return [WalletAdjustmentType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY, description="Admin: the STS management tokens issued for a meter, newest first"
    )
    async def management_tokens(
        self, info: strawberry.Info, meter_number: str, first: int | None = 20
    ) -> list[ManagementTokenType]:
        rows = await management.management_tokens(
            info.context.db, info.context.viewer, meter_number, first=20 if first is None else first
        )
        return [ManagementTokenType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: purchases per Jakarta day and status, from..to inclusive (YYYY-MM-DD)",
    )
    async def sales_by_day(self, info: strawberry.Info, from_: FromDay, to: str) -> list[DaySalesType]:
        rows = await operations.sales_by_day(info.context.db, info.context.viewer, from_, to)
        return [DaySalesType.of(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: PENDING purchases, oldest first (money held until the biller answers)",
    )
    async def pending_purchases(self, info: strawberry.Info, first: int = 100) -> list[PurchaseType]:
        rows = await operations.pending_purchases(info.context.db, info.context.viewer, first=first)
        return [PurchaseType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY, description="Admin: every management token issued from..to (Jakarta days), newest first"
    )
    async def issued_management_tokens(
        self, info: strawberry.Info, from_: FromDay, to: str
    ) -> list[ManagementTokenType]:
        rows = await operations.issued_management_tokens(info.context.db, info.context.viewer, from_, to)
        return [ManagementTokenType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: the review queue: purchases the settlement worker moved to REVIEW (money held), "
        "oldest first; settle each with settlePurchase",
    )
    async def purchases_in_review(self, info: strawberry.Info, first: int = 50) -> list[PurchaseType]:
        rows = await settlement.purchases_in_review(info.context.db, info.context.viewer, first=first)
        return [PurchaseType.from_row(row) for row in rows]

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: one Asia/Jakarta day of purchases against the biller's record (the truth): counts and "
        "sums per status on both sides and every difference",
    )
    async def biller_reconciliation(self, info: strawberry.Info, date: date) -> BillerReconciliationReport:
        context = info.context
        report = await biller_reconciliation.reconcile_with_biller(context.db, context.state, context.viewer, date)
        return BillerReconciliationReport.of(report)

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin: prove balance == sum(ledger) for every wallet, every top-up credit is one provider "
        "payment, and the kWh usage counters",
    )
    async def wallet_reconciliation(self, info: strawberry.Info) -> ReconciliationReportType:
        info.context.viewer.require_admin()
        report = await reconciliation.reconcile(info.context.db)
        return ReconciliationReportType(
            ok=report.ok,
            wallets_checked=report.wallets_checked,
            wallet_mismatches=[
                WalletMismatchType(customer_id=strawberry.ID(m.customer_id), balance=m.balance, ledger_sum=m.ledger_sum)
                for m in report.wallet_mismatches
            ],
            usage_mismatches=[
                UsageMismatchType(
                    meter_number=m.meter_number,
                    month=m.month,
                    recorded_kwh=tenths(m.recorded_tenths),
                    purchases_kwh=tenths(m.purchases_tenths),
                )
                for m in report.usage_mismatches
            ],
            payment_mismatches=[
                PaymentMismatchType(reference=m.reference, problem=m.problem) for m in report.payment_mismatches
            ],
        )
