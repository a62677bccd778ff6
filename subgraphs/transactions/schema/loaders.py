"""Per-request DataLoaders: every batch is one SELECT, whatever the number of references."""

from __future__ import annotations

from strawberry.dataloader import DataLoader

from setrum_common.service_app import ServiceContext

from .. import repository as repo
from ..models import Purchase, Wallet

__all__ = ["purchase_loader", "wallet_loader", "usage_loader", "UsageKey", "UsageValue"]

UsageKey = tuple[str, str]  # (meter number, "YYYY-MM")
UsageValue = tuple[int, int | None]  # (kWh tenths, power VA or None when never bought for)


def purchase_loader(context: ServiceContext) -> DataLoader[str, Purchase | None]:
    async def load(ids: list[str]) -> list[Purchase | None]:
        async with context.db.reads() as session:
            found = await repo.purchases_by_ids(session, ids)
        return [found.get(i) for i in ids]

    return context.loader("tx.purchase", load)


def wallet_loader(context: ServiceContext) -> DataLoader[str, Wallet | None]:
    async def load(customer_ids: list[str]) -> list[Wallet | None]:
        async with context.db.reads() as session:
            found = await repo.wallets_by_customer(session, customer_ids)
        return [found.get(c) for c in customer_ids]

    return context.loader("tx.wallet", load)


def usage_loader(context: ServiceContext) -> DataLoader[UsageKey, UsageValue]:
    async def load(keys: list[UsageKey]) -> list[UsageValue]:
        async with context.db.reads() as session:
            usage = await repo.usage_by_meter_month(session, keys)
            power = await repo.latest_power_va(session, {m for m, _ in keys})
        return [(usage.get(key, 0), power.get(key[0])) for key in keys]

    return context.loader("tx.usage", load)
