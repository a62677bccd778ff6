"""Reading purchases: by id or client reference, only those the viewer may see."""

from __future__ import annotations

from datetime import timedelta

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..models import Purchase, PurchaseStatus
from ..settings import TransactionsSettings
from .inputs import require_buyer

__all__ = [
    "by_client_reference",
    "existing_for_viewer",
    "is_stale_pending",
    "purchase_by_reference",
    "purchase_for_viewer",
    "reload_purchase",
]


async def reload_purchase(db: Database, purchase_id: str) -> Purchase:
    """The purchase as stored now: one statement, no transaction round trips around it."""
    purchase = await db.run(repo.purchase_by_id, purchase_id, one_statement=True)
    assert purchase is not None
    return purchase


async def by_client_reference(db: Database, customer_id: str, client_reference: str) -> Purchase | None:
    """The idempotency read of every purchase request: a Core probe for the id (an ORM read costs twice
    as much, and nine requests in ten find nothing), then the row when there is one."""
    purchase_id = await db.run(repo.purchase_id_by_client_reference, customer_id, client_reference, one_statement=True)
    return None if purchase_id is None else await reload_purchase(db, purchase_id)


def _check_access(viewer: Viewer, purchase: Purchase) -> Purchase:
    viewer.require_authenticated()
    if not viewer.can_access_customer(purchase.customer_id):
        raise DomainError(ErrorCode.FORBIDDEN, "This purchase belongs to another customer")
    return purchase


async def purchase_for_viewer(db: Database, viewer: Viewer, purchase_id: str) -> Purchase | None:
    viewer.require_authenticated()
    async with db.session() as session:
        purchase = await repo.get_purchase(session, str(purchase_id))
    return _check_access(viewer, purchase) if purchase is not None else None


async def purchase_by_reference(db: Database, viewer: Viewer, client_reference: str) -> Purchase | None:
    customer_id = require_buyer(viewer)
    return await by_client_reference(db, customer_id, client_reference.strip())


async def existing_for_viewer(db: Database, viewer: Viewer, purchase_id: str) -> Purchase:
    purchase = await purchase_for_viewer(db, viewer, purchase_id)
    if purchase is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
    return purchase


def is_stale_pending(purchase: Purchase, settings: TransactionsSettings) -> bool:
    if purchase.status != PurchaseStatus.PENDING.value or settings.pending_refresh_after_s <= 0:
        return False
    return utc_now() - purchase.created_at >= timedelta(seconds=settings.pending_refresh_after_s)
