"""Federation reference resolution for ``Customer``: batched, and authorised item by item.

The router sends ``_entities`` with many ``{__typename: "Customer", id}`` representations (for
example one per purchase). Each item is checked on its own: a customer may resolve only
themselves, admins and services anyone. A refused item becomes ``null`` with a FORBIDDEN error
at ``["_entities", i]``; the others still resolve. Unknown ids resolve to ``null``.
"""

from __future__ import annotations

import strawberry

from ..models import Customer
from .context import context_of
from .loaders import customer_loader

__all__ = ["resolve_customer_reference"]


async def resolve_customer_reference(info: strawberry.Info, customer_id: str) -> Customer | None:
    context = context_of(info)
    context.viewer.require_customer_access(str(customer_id))
    return await customer_loader(context).load(str(customer_id))
