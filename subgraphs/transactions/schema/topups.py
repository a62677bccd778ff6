"""GraphQL types of wallet top-ups through the payment provider, and the adjustment audit log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from .. import models
from ..service.topups import shown_status

__all__ = ["TopUpMethod", "TopUpStatus", "TopUpType", "WalletAdjustmentType"]

TopUpMethod = strawberry.enum(models.TopUpMethod, name="TopUpMethod", description="How the customer pays")
TopUpStatus = strawberry.enum(models.TopUpStatus, name="TopUpStatus")

_BANK_NAMES = {
    "BCA": "Bank Central Asia",
    "BNI": "Bank Negara Indonesia",
    "BRI": "Bank Rakyat Indonesia",
    "MANDIRI": "Bank Mandiri",
    "PERMATA": "Bank Permata",
}


@strawberry.type(
    name="TopUp",
    description="A wallet top-up: pay `amount` to the virtual account or with the QRIS code before `expiresAt`; "
    "the wallet is credited when the payment provider confirms the payment",
)
class TopUpType:
    id: strawberry.ID
    amount: Decimal
    method: models.TopUpMethod  # registered above as TopUpMethod
    status: models.TopUpStatus  # registered above as TopUpStatus
    bank_code: str | None = strawberry.field(description="VIRTUAL_ACCOUNT: the bank (BCA, BNI, BRI, MANDIRI, PERMATA)")
    bank_name: str | None
    va_number: str | None = strawberry.field(description="VIRTUAL_ACCOUNT: the number to transfer to")
    qris_payload: str | None = strawberry.field(description="QRIS: the EMVCo payload to show as a QR code")
    expires_at: datetime | None
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.TopUp) -> TopUpType:
        return cls(
            id=strawberry.ID(row.id),
            amount=row.amount,
            method=models.TopUpMethod(row.method),
            status=shown_status(row),
            bank_code=row.bank_code,
            bank_name=_BANK_NAMES.get(row.bank_code or ""),
            va_number=row.va_number,
            qris_payload=row.qris_payload,
            expires_at=row.expires_at,
            paid_at=row.paid_at,
            created_at=row.created_at,
        )


@strawberry.type(name="WalletAdjustment", description="An admin's wallet adjustment, as the audit log keeps it")
class WalletAdjustmentType:
    id: strawberry.ID
    customer_id: strawberry.ID
    amount: Decimal
    reason: str
    admin_id: strawberry.ID
    ledger_reference: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.WalletAdjustment) -> WalletAdjustmentType:
        return cls(
            id=strawberry.ID(str(row.id)),
            customer_id=strawberry.ID(row.customer_id),
            amount=row.amount,
            reason=row.reason,
            admin_id=strawberry.ID(row.admin_id),
            ledger_reference=row.ledger_reference,
            created_at=row.created_at,
        )
