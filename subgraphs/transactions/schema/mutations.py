"""Root mutation fields: top-ups, buy, refresh, reprint, refund, management tokens."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from setrum_common.schema_access import ADMIN_ONLY, SIGNED_IN

from .. import models, settlement
from ..service import management, purchases, refunds, topups, wallets
from .management import ManagementTokenType
from .topups import TopUpType
from .types import PurchaseType, WalletType

__all__ = ["TransactionsMutation"]


@strawberry.type(name="Mutation")
class TransactionsMutation:
    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Start a wallet top-up: the payment provider opens a virtual account (bankCode, default BCA) "
        "or a QRIS code for the amount; the wallet is credited when the payment is confirmed",
    )
    async def create_top_up(
        self, info: strawberry.Info, amount: Decimal, method: models.TopUpMethod, bank_code: str | None = None
    ) -> TopUpType:
        context = info.context
        row = await topups.create_top_up(
            context.db, context.state, context.viewer, amount, models.TopUpMethod(method), bank_code
        )
        return TopUpType.from_row(row)

    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Cancel an unpaid top-up: its virtual account or QRIS code can no longer be paid",
    )
    async def cancel_top_up(self, info: strawberry.Info, id: strawberry.ID) -> TopUpType:
        row = await topups.cancel_top_up(info.context.db, info.context.state, info.context.viewer, str(id))
        return TopUpType.from_row(row)

    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Development only for customers (production answers TOP_UP_REQUIRES_PAYMENT: use createTopUp): "
        "credit the viewer's wallet without a payment. For an admin, an adjustment of customerId's wallet with a "
        "mandatory reason, kept in the audit log (walletAdjustments). Idempotent by paymentReference.",
    )
    async def top_up_wallet(
        self,
        info: strawberry.Info,
        amount: Decimal,
        payment_reference: str,
        customer_id: strawberry.ID | None = None,
        reason: str | None = None,
    ) -> WalletType:
        context = info.context
        view = await wallets.top_up(
            context.db,
            context.viewer,
            amount,
            payment_reference,
            production=context.settings.is_production,
            customer_id=None if customer_id is None else str(customer_id),
            reason=reason,
            metrics=context.state.metrics,
        )
        return WalletType.from_view(view)

    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Buy a token; replaying the same clientReference returns the same purchase and never charges twice",
    )
    async def purchase_token(
        self, info: strawberry.Info, meter_number: str, denomination: Decimal, client_reference: str
    ) -> PurchaseType:
        row = await purchases.purchase_token(
            info.context.db,
            info.context.state,
            info.context.viewer,
            meter_number=meter_number,
            denomination=denomination,
            client_reference=client_reference,
        )
        return PurchaseType.from_row(row)

    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Re-ask the biller about a PENDING purchase (same reference; never buys again)",
    )
    async def refresh_purchase(self, info: strawberry.Info, id: strawberry.ID) -> PurchaseType:
        row = await purchases.refresh_purchase(info.context.db, info.context.state, info.context.viewer, str(id))
        return PurchaseType.from_row(row)

    @strawberry.mutation(directives=SIGNED_IN, description="The stored token again (cetak ulang); never a new token")
    async def reprint_token(self, info: strawberry.Info, id: strawberry.ID) -> PurchaseType:
        row = await purchases.reprint_token(info.context.db, info.context.state, info.context.viewer, str(id))
        return PurchaseType.from_row(row)

    @strawberry.mutation(
        directives=ADMIN_ONLY, description="Admin: the biller reversed a SUCCESS purchase; refund the wallet once"
    )
    async def refund_purchase(
        self, info: strawberry.Info, id: strawberry.ID, reason: str | None = None
    ) -> PurchaseType:
        row = await refunds.refund_purchase(
            info.context.db, info.context.viewer, str(id), reason, metrics=info.context.state.metrics
        )
        return PurchaseType.from_row(row)

    @strawberry.mutation(
        directives=ADMIN_ONLY,
        description="Admin: settle a REVIEW or PENDING purchase with what the biller holds under its reference "
        "(SUCCESS stores the token, FAILED refunds). When the biller never received it, the sale is sent now, "
        "or with refundIfUnsold the purchase fails and is refunded.",
    )
    async def settle_purchase(
        self, info: strawberry.Info, id: strawberry.ID, refund_if_unsold: bool = False
    ) -> PurchaseType:
        row = await settlement.settle_by_hand(
            info.context.db, info.context.state, info.context.viewer, str(id), refund_if_unsold=refund_if_unsold
        )
        return PurchaseType.from_row(row)

    @strawberry.mutation(
        directives=ADMIN_ONLY,
        description="Admin: have the biller issue an STS management token (class 2) for a meter; "
        "SET_MAX_POWER needs value = watts. Every call is a new token, unless it repeats a clientReference: "
        "a retry with the same clientReference returns the same token.",
    )
    async def issue_management_token(
        self,
        info: strawberry.Info,
        meter_number: str,
        kind: models.ManagementTokenKind,
        value: int | None = strawberry.UNSET,
        client_reference: str | None = None,
    ) -> ManagementTokenType:
        row = await management.issue_management_token(
            info.context.db,
            info.context.state,
            info.context.viewer,
            meter_number=meter_number,
            kind=models.ManagementTokenKind(kind),
            value=None if value is strawberry.UNSET else value,
            client_reference=client_reference,
        )
        return ManagementTokenType.from_row(row)
