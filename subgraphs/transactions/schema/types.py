"""GraphQL object types owned by the transactions subgraph: Purchase, Wallet, ledger, usage."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from setrum_common.errors import DomainError, ErrorCode
from sts.tokens import TokenFormatError, format_token

from .. import models
from .. import repository as repo
from ..pagination import (
    decode_id_cursor,
    decode_time_cursor,
    encode_id_cursor,
    encode_time_cursor,
    page_size,
    time_filter,
)
from ..service.wallets import WalletView
from .loaders import purchase_loader

if TYPE_CHECKING:
    from .entities import CustomerInTransactions, MeterInTransactions

__all__ = [
    "PurchaseStatus",
    "LedgerEntryKind",
    "PurchaseType",
    "PurchaseEdge",
    "PurchaseConnection",
    "PageInfo",
    "WalletType",
    "LedgerEntryType",
    "LedgerEntryEdge",
    "LedgerEntryConnection",
    "MonthlyUsage",
    "WalletMismatchType",
    "UsageMismatchType",
    "ReconciliationReportType",
    "PaymentMismatchType",
    "purchase_page",
]

PurchaseStatus = strawberry.enum(models.PurchaseStatus, name="PurchaseStatus")
LedgerEntryKind = strawberry.enum(models.LedgerKind, name="LedgerEntryKind")

_TENTH = Decimal("0.1")


def printed_token(token: str | None) -> str | None:
    """A stored token as a receipt prints it (``1234-5678-9012-3456-7890``), by the STS library's rule."""
    if not token:
        return None
    try:
        return format_token(token)
    except TokenFormatError:  # not a 20-digit STS token: show it as stored rather than fail the read
        return token


def _instructions(row: models.Purchase) -> str | None:
    if not row.token:
        return None
    if row.key_change_tokens:
        return (
            "Enter the 1st key change token, then the 2nd, then the credit token, in that order: "
            "the meter needs its new key before it accepts the credit."
        )
    return "Enter the token on the meter's keypad."


@strawberry.federation.type(name="Purchase", keys=["id"], description="A token purchase and its receipt (struk).")
class PurchaseType:
    id: strawberry.ID
    client_reference: str
    channel_reference: str = strawberry.field(description="Our unique reference towards the biller")
    status: models.PurchaseStatus  # registered above as PurchaseStatus (strawberry.enum returns the class)
    meter_number: str
    holder_name: str
    idpel: str
    tariff_code: str
    power_va: int
    denomination: Decimal
    nominal: Decimal
    admin_fee: Decimal
    stamp_duty: Decimal
    ppn: Decimal
    ppj: Decimal
    instalment: Decimal
    energy_value: Decimal
    kwh: Decimal
    total_paid: Decimal
    token: str | None = strawberry.field(description="20 digits, once the biller answered SUCCESS")
    formatted_token: str | None = strawberry.field(description="The token as XXXX-XXXX-XXXX-XXXX-XXXX")
    biller_reference: str | None
    failure_code: str | None = strawberry.field(description="Why the biller failed it (FAILED only)")
    issued_at: datetime | None
    created_at: datetime
    updated_at: datetime
    key_change_tokens: list[str] | None = strawberry.field(
        description="Key change tokens (XXXX-XXXX-XXXX-XXXX-XXXX) to enter BEFORE the credit token, in this order"
    )
    token_instructions: str | None = strawberry.field(description="How to enter the tokens, once there are any")
    instalment_debt_left: Decimal | None = strawberry.field(
        description="Instalment debt still owed after this purchase"
    )
    customer_id: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Purchase) -> PurchaseType:
        return cls(
            id=strawberry.ID(row.id),
            client_reference=row.client_reference,
            channel_reference=row.channel_reference,
            status=models.PurchaseStatus(row.status),
            meter_number=row.meter_number,
            holder_name=row.holder_name,
            idpel=row.idpel,
            tariff_code=row.tariff_code,
            power_va=row.power_va,
            denomination=row.denomination,
            nominal=row.nominal,
            admin_fee=row.admin_fee,
            stamp_duty=row.stamp_duty,
            ppn=row.ppn,
            ppj=row.ppj,
            instalment=row.instalment,
            energy_value=row.energy_value,
            kwh=row.kwh,
            total_paid=row.total_paid,
            token=row.token,
            formatted_token=printed_token(row.token),
            biller_reference=row.biller_reference,
            failure_code=row.biller_code if row.status == models.PurchaseStatus.FAILED.value else None,
            issued_at=row.issued_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
            key_change_tokens=[str(printed_token(t)) for t in row.key_change_tokens.split()]
            if row.key_change_tokens
            else None,
            token_instructions=_instructions(row),
            instalment_debt_left=row.instalment_debt_left,
            customer_id=row.customer_id,
        )

    @strawberry.field(description="The meter (resolved by master)")
    def meter(self) -> Annotated[MeterInTransactions, strawberry.lazy(".entities")]:
        from .entities import MeterInTransactions

        return MeterInTransactions(number=self.meter_number)

    @strawberry.field(description="The buyer (resolved by users)")
    def customer(self) -> Annotated[CustomerInTransactions, strawberry.lazy(".entities")]:
        from .entities import CustomerInTransactions

        return CustomerInTransactions(id=strawberry.ID(self.customer_id))

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> PurchaseType | None:
        row = await purchase_loader(info.context).load(str(id))
        if row is None:
            return None
        viewer = info.context.viewer
        viewer.require_authenticated()
        if not viewer.can_access_customer(row.customer_id):
            raise DomainError(ErrorCode.FORBIDDEN, "This purchase belongs to another customer")
        return cls.from_row(row)


@strawberry.federation.type(shareable=True, description="Cursor pagination state (cursors are opaque)")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PurchaseEdge:
    cursor: str
    node: PurchaseType


@strawberry.type(description="Purchases, newest first")
class PurchaseConnection:
    edges: list[PurchaseEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[PurchaseType]:
        return [edge.node for edge in self.edges]


async def purchase_page(
    info: strawberry.Info,
    *,
    customer_id: str | None,
    meter_number: str | None,
    first: int | None,
    after: str | None,
    status: models.PurchaseStatus | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> PurchaseConnection:
    size = page_size(first)
    cursor = decode_time_cursor(after) if after else None
    async with info.context.db.reads() as session:
        rows, has_next = await repo.list_purchases(
            session,
            customer_id=customer_id,
            meter_number=meter_number,
            status=status,
            created_from=time_filter(created_from, "from"),
            created_to=time_filter(created_to, "to"),
            first=size,
            after=cursor,
        )
    edges = [PurchaseEdge(cursor=encode_time_cursor(r.created_at, r.id), node=PurchaseType.from_row(r)) for r in rows]
    return PurchaseConnection(
        edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)
    )


@strawberry.type(name="LedgerEntry", description="One append-only wallet movement; debits are negative")
class LedgerEntryType:
    id: strawberry.ID
    kind: models.LedgerKind  # registered above as LedgerEntryKind
    amount: Decimal
    balance_after: Decimal
    reference: str
    purchase_id: strawberry.ID | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: models.LedgerEntry) -> LedgerEntryType:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=models.LedgerKind(row.kind),
            amount=row.amount,
            balance_after=row.balance_after,
            reference=row.reference,
            purchase_id=strawberry.ID(row.purchase_id) if row.purchase_id else None,
            created_at=row.created_at,
        )

    @strawberry.field(description="The purchase this debit or refund belongs to")
    async def purchase(self, info: strawberry.Info) -> PurchaseType | None:
        if self.purchase_id is None:
            return None
        row = await purchase_loader(info.context).load(str(self.purchase_id))
        return PurchaseType.from_row(row) if row is not None else None


@strawberry.type
class LedgerEntryEdge:
    cursor: str
    node: LedgerEntryType


@strawberry.type
class LedgerEntryConnection:
    edges: list[LedgerEntryEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[LedgerEntryType]:
        return [edge.node for edge in self.edges]


@strawberry.type(name="Wallet", description="A customer's wallet: balance == sum of its ledger entries, never negative")
class WalletType:
    customer_id: strawberry.ID
    balance: Decimal
    currency: str

    @classmethod
    def from_view(cls, view: WalletView) -> WalletType:
        return cls(customer_id=strawberry.ID(view.customer_id), balance=view.balance, currency=view.currency)

    @strawberry.field(description="Ledger entries, newest first")
    async def entries(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None
    ) -> LedgerEntryConnection:
        size = page_size(first)
        before_id = decode_id_cursor(after) if after else None
        async with info.context.db.reads() as session:
            rows, has_next = await repo.list_ledger(session, str(self.customer_id), first=size, before_id=before_id)
        edges = [LedgerEntryEdge(cursor=encode_id_cursor(r.id), node=LedgerEntryType.from_row(r)) for r in rows]
        return LedgerEntryConnection(
            edges=edges, page_info=PageInfo(has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None)
        )


@strawberry.type(description="kWh bought for a meter in one Asia/Jakarta calendar month (SUCCESS + PENDING)")
class MonthlyUsage:
    meter_number: str
    month: str
    kwh: Decimal
    limit_kwh: Decimal | None = strawberry.field(description="VA/1000 × 720; null until a purchase told us the VA")
    remaining_kwh: Decimal | None
    power_va: int | None


@strawberry.type(name="WalletMismatch")
class WalletMismatchType:
    customer_id: strawberry.ID
    balance: Decimal
    ledger_sum: Decimal


@strawberry.type(name="UsageMismatch")
class UsageMismatchType:
    meter_number: str
    month: str
    recorded_kwh: Decimal
    purchases_kwh: Decimal


@strawberry.type(
    name="PaymentMismatch",
    description="A TOPUP credit and the provider payments disagree: CREDIT_WITHOUT_PAYMENT, PAYMENT_WITHOUT_CREDIT "
    "or AMOUNT_DIFFERS",
)
class PaymentMismatchType:
    reference: str
    problem: str


@strawberry.type(
    name="ReconciliationReport",
    description="Proof that every balance equals the sum of its ledger and every top-up credit is one payment",
)
class ReconciliationReportType:
    ok: bool
    wallets_checked: int
    wallet_mismatches: list[WalletMismatchType]
    usage_mismatches: list[UsageMismatchType]
    payment_mismatches: list[PaymentMismatchType]


def tenths(value: int) -> Decimal:
    return (Decimal(value) / 10).quantize(_TENTH)
