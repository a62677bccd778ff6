"""Entities owned elsewhere that this subgraph extends: ``Customer`` (users) and ``Meter`` (master).

Only their key fields are declared here; references resolve without touching the database and
the contributed fields batch through the per-request loaders.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from setrum_common.clock import month_bounds
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.kwh_limit import monthly_limit_tenths

from .. import models
from .. import repository as repo
from ..service.inputs import parse_month
from ..service.wallets import WalletView
from .loaders import usage_loader, wallet_loader
from .types import MonthlyUsage, PurchaseConnection, WalletType, purchase_page, tenths

__all__ = ["CustomerInTransactions", "MeterInTransactions"]

FromArg = Annotated[datetime | None, strawberry.argument(name="from", description="createdAt >= from")]
ToArg = Annotated[datetime | None, strawberry.argument(description="createdAt < to")]


@strawberry.federation.type(name="Customer", keys=["id"])
class CustomerInTransactions:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID) -> CustomerInTransactions:
        return cls(id=id)

    @strawberry.field(description="The wallet (own, or any for an admin)")
    async def wallet(self, info: strawberry.Info) -> WalletType:
        info.context.viewer.require_customer_access(str(self.id))
        row = await wallet_loader(info.context).load(str(self.id))
        balance = row.balance if row is not None else Decimal("0.00")
        return WalletType.from_view(WalletView(str(self.id), balance))

    @strawberry.field(description="This customer's purchases, newest first (own, or any for an admin)")
    async def purchases(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        status: models.PurchaseStatus | None = None,
        from_: FromArg = None,
        to: ToArg = None,
    ) -> PurchaseConnection:
        info.context.viewer.require_customer_access(str(self.id))
        return await purchase_page(
            info,
            customer_id=str(self.id),
            meter_number=None,
            first=first,
            after=after,
            status=status,
            created_from=from_,
            created_to=to,
        )


async def bought_for(db: Database, customer_id: str, meter_number: str) -> bool:
    async with db.reads() as session:
        return await repo.bought_for(session, customer_id, meter_number)


@strawberry.federation.type(name="Meter", keys=["number"])
class MeterInTransactions:
    number: str
    # Master's field, sent along when monthlyUsage asks for it (@requires): the cap needs the power. Declared with
    # master's type (Int!: federation wants an external field typed as its owner has it); 0 = not sent.
    power_va: int = strawberry.federation.field(external=True, default=0)
    # ...and whether the viewer saved it (master's saved meters): the owner check of monthlyUsage.
    saved_by_me: bool = strawberry.federation.field(external=True, default=False)

    @classmethod
    def resolve_reference(cls, info: strawberry.Info, number: str, **data: object) -> MeterInTransactions:
        power = data.get("powerVa", data.get("power_va"))
        saved = data.get("savedByMe", data.get("saved_by_me"))
        power_va = power if isinstance(power, int) and not isinstance(power, bool) else 0
        return cls(number=number, power_va=power_va, saved_by_me=saved is True)

    @strawberry.field(description="Purchases for this meter: all for an admin, a customer's own otherwise")
    async def purchases(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        status: models.PurchaseStatus | None = None,
        from_: FromArg = None,
        to: ToArg = None,
    ) -> PurchaseConnection:
        viewer = info.context.viewer.require_authenticated()
        only = None if viewer.is_admin else viewer.customer_id
        return await purchase_page(
            info,
            customer_id=only,
            meter_number=self.number,
            first=first,
            after=after,
            status=status,
            created_from=from_,
            created_to=to,
        )

    @strawberry.federation.field(
        requires=["powerVa", "savedByMe"],
        description="kWh counted against the monthly cap (month 'YYYY-MM', Asia/Jakarta; default now): for an "
        "admin, or a customer who saved the meter or bought for it",
    )
    async def monthly_usage(self, info: strawberry.Info, month: str | None = None) -> MonthlyUsage:
        viewer = info.context.viewer.require_authenticated()
        month = parse_month(month)
        month_bounds(month)  # validates the calendar month
        if not (viewer.is_admin or self.saved_by_me):
            customer = viewer.customer_id
            if customer is None or not await bought_for(info.context.db, customer, self.number):
                raise DomainError(
                    ErrorCode.FORBIDDEN, "Only a customer who saved or bought for this meter sees its usage"
                )
        used, power_va = await usage_loader(info.context).load((self.number, month))
        power_va = self.power_va or power_va  # master's record first: the cap is known before any purchase
        limit = tenths(monthly_limit_tenths(power_va)) if power_va else None
        kwh = tenths(used)
        return MonthlyUsage(
            meter_number=self.number,
            month=month,
            kwh=kwh,
            limit_kwh=limit,
            remaining_kwh=max(limit - kwh, Decimal("0.0")) if limit is not None else None,
            power_va=power_va,
        )
