"""Watching one purchase's status until it settles (the ``purchaseStatus`` subscription).

The purchase row is read again every ``subscription_poll_interval_s``: any replica may settle it (the
request that made it, the settlement worker of another replica, an operator), so the only shared truth is the
row itself. A primary-key read at a bounded interval works the same on SQLite and PostgreSQL and across
replicas without a notification channel (PostgreSQL's LISTEN/NOTIFY would need a dedicated connection per
replica and a second code path for SQLite). A change is emitted once; a final status ends the watch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from ..models import Purchase, PurchaseStatus
from .lookup import purchase_for_viewer

__all__ = ["FINAL_STATUSES", "watch_purchase"]

FINAL_STATUSES = frozenset({PurchaseStatus.SUCCESS.value, PurchaseStatus.FAILED.value, PurchaseStatus.REFUNDED.value})
"""Statuses a purchase never leaves: the watch ends after emitting one."""

Refresh = Callable[[Purchase], Awaitable[Purchase]]


async def watch_purchase(
    db: Database,
    viewer: Viewer,
    purchase_id: str,
    *,
    refresh: Refresh,
    interval_s: float,
    max_s: float,
) -> AsyncIterator[Purchase]:
    """The purchase now, then each time its status changes, until a final status or ``max_s`` seconds
    (the client subscribes again for longer). ``refresh`` re-asks the biller about a stale PENDING row,
    as a read does. Raises NOT_FOUND (or FORBIDDEN: another customer's) before the first event."""
    row = await purchase_for_viewer(db, viewer, purchase_id)
    if row is None:
        raise DomainError(ErrorCode.NOT_FOUND, f"No purchase {purchase_id}")
    ends = time.monotonic() + max_s
    row = await refresh(row)
    yield row
    last = row.status
    while last not in FINAL_STATUSES and time.monotonic() < ends:
        await asyncio.sleep(interval_s)
        found = await purchase_for_viewer(db, viewer, purchase_id)
        if found is None:  # never deleted; defensive
            return
        found = await refresh(found)
        if found.status != last:
            last = found.status
            yield found
