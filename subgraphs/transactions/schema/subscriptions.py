"""Root subscription fields of the transactions subgraph (served over graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from setrum_common.schema_access import SIGNED_IN

from .. import models
from ..service import lookup, purchases
from ..service.watch import watch_purchase
from .types import PurchaseType

__all__ = ["TransactionsSubscription"]


@strawberry.type(name="Subscription")
class TransactionsSubscription:
    @strawberry.subscription(
        directives=SIGNED_IN,
        description="A purchase (own, or any for an admin) now and on every status change; completes once it is "
        "SUCCESS, FAILED or REFUNDED",
    )
    async def purchase_status(self, info: strawberry.Info, id: strawberry.ID) -> AsyncGenerator[PurchaseType, None]:
        context = info.context
        settings = context.settings

        async def refresh(row: models.Purchase) -> models.Purchase:
            if lookup.is_stale_pending(row, settings):
                return await purchases.resolve_pending(context.db, context.state, row)
            return row

        rows = watch_purchase(
            context.db,
            context.viewer,
            str(id),
            refresh=refresh,
            interval_s=settings.subscription_poll_interval_s,
            max_s=settings.subscription_max_s,
        )
        watches = context.state.metrics.status_watches
        watches.inc()
        try:
            async for row in rows:
                yield PurchaseType.from_row(row)
        finally:  # the router closed the subscription (its client went away), or the purchase settled
            watches.dec()
            await rows.aclose()  # type: ignore[attr-defined]
