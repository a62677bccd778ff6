"""Root mutation fields: top up, buy, refresh, reprint, refund, management tokens."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from setrum_common.schema_access import ADMIN_ONLY, SIGNED_IN

from .. import models, settlement
from ..service import management, purchases, refunds, wallets
from .management import ManagementTokenType
from .types import PurchaseType, WalletType

__all__ = ["TransactionsMutation"]


@strawberry.type(name="Mutation")
class TransactionsMutation:
    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Credit a (simulated) payment to the viewer's wallet; idempotent by paymentReference",
    )
    async def top_up_wallet(self, info: strawberry.Info, amount: Decimal, payment_reference: str) -> WalletType:
        view = await wallets.top_up(
            info.context.db, info.context.viewer, amount, payment_reference, metrics=info.context.state.metrics
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
