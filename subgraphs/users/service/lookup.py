"""Reading customers: a customer sees only themselves, admins page through everyone."""

from __future__ import annotations

from collections.abc import Sequence

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository
from ..models import Customer
from .inputs import parse_customer_id

__all__ = ["MAX_PAGE_SIZE", "customer_for_viewer", "customers_page", "load_customers", "viewer_customer"]

MAX_PAGE_SIZE = 100


async def viewer_customer(db: Database, viewer: Viewer) -> Customer | None:
    """The signed-in customer, or ``None`` for anonymous callers and services. A token whose subject
    is no customer (a forged or stale token) is UNAUTHENTICATED, not an empty answer."""
    customer_id = viewer.customer_id
    if customer_id is None:
        return None
    async with db.reads() as session:
        found = await repository.get_customer(session, customer_id)
    if found is None:
        raise DomainError(ErrorCode.UNAUTHENTICATED, "The token's account does not exist")
    return found


async def customer_for_viewer(db: Database, viewer: Viewer, customer_id: str) -> Customer:
    """A customer sees only themselves (FORBIDDEN otherwise, whether or not the id exists)."""
    viewer.require_customer_access(customer_id)
    canonical = parse_customer_id(customer_id)
    customer = None
    if canonical is not None:
        async with db.reads() as session:
            customer = await repository.get_customer(session, canonical)
    if customer is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No customer with id '{customer_id[:64]}'")
    return customer


async def customers_page(db: Database, viewer: Viewer, *, first: int, after: str | None) -> list[Customer]:
    """Admins page through customers in sign-up order; ``after`` is the last id of the previous page."""
    viewer.require_admin()
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"'first' must be between 1 and {MAX_PAGE_SIZE}")
    async with db.reads() as session:
        position = None
        if after is not None:
            canonical = parse_customer_id(after)
            anchor = await repository.get_customer(session, canonical) if canonical else None
            if anchor is None:
                raise DomainError(ErrorCode.BAD_USER_INPUT, "'after' must be the id of a customer from a previous page")
            position = (anchor.created_at, anchor.id)
        return await repository.list_customers(session, limit=first, after=position)


async def load_customers(db: Database, ids: Sequence[str]) -> list[Customer | None]:
    """Customers for ``ids`` in the same order (``None`` where unknown), with one query."""
    canonical = [parse_customer_id(i) for i in ids]
    async with db.reads() as session:
        found = await repository.customers_by_ids(session, [c for c in canonical if c is not None])
    return [found.get(c) if c is not None else None for c in canonical]
