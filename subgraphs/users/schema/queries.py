"""Query root of the users subgraph."""

from __future__ import annotations

import strawberry

from setrum_common.schema_access import ADMIN_ONLY, SIGNED_IN

from ..service import lookup
from .context import context_of
from .loaders import customer_loader
from .types import CustomerType

__all__ = ["UsersQuery"]


@strawberry.type(name="Query")
class UsersQuery:
    @strawberry.field(directives=SIGNED_IN, description="The signed-in customer; null when not signed in.")
    async def me(self, info: strawberry.Info) -> CustomerType | None:
        context = context_of(info)
        found = await lookup.viewer_customer(context.db, context.viewer)
        return CustomerType.from_model(found) if found is not None else None

    @strawberry.field(directives=SIGNED_IN, description="A customer by id: yourself, or anyone for an admin.")
    async def customer(self, info: strawberry.Info, id: strawberry.ID) -> CustomerType | None:
        context = context_of(info)
        found = await lookup.customer_for_viewer(context.db, context.viewer, str(id))
        customer_loader(context).prime(found.id, found)
        return CustomerType.from_model(found)

    @strawberry.field(
        directives=ADMIN_ONLY,
        description="Admin only: customers in sign-up order. Pass the id of the last customer of a page as "
        "'after' to get the next page (at most 100 per page).",
    )
    async def customers(
        self, info: strawberry.Info, first: int | None = 50, after: str | None = None
    ) -> list[CustomerType]:
        context = context_of(info)
        page = await lookup.customers_page(
            context.db, context.viewer, first=50 if first is None else first, after=after
        )
        return [CustomerType.from_model(c) for c in page]
