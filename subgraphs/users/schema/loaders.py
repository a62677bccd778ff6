"""Per-request DataLoaders: many ``Customer`` look-ups in one request become one query."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader

from setrum_common.service_app import ServiceContext

from ..models import Customer
from ..service import lookup

__all__ = ["customer_loader"]


def customer_loader(context: ServiceContext) -> DataLoader[str, Customer | None]:
    async def load(ids: list[Any]) -> list[Customer | None]:
        return await lookup.load_customers(context.db, [str(i) for i in ids])

    return context.loader("users.customer_by_id", load)
