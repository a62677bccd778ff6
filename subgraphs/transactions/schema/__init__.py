"""The strawberry Federation 2 schema of the transactions subgraph.

Python class names follow docs/architecture.md §2 In a subgraph (the GraphQL names are given with ``name=``).
"""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .entities import CustomerInTransactions, MeterInTransactions
from .mutations import TransactionsMutation
from .queries import TransactionsQuery
from .subscriptions import TransactionsSubscription
from .types import PurchaseType

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=TransactionsQuery,
    mutation=TransactionsMutation,
    subscription=TransactionsSubscription,
    types=[PurchaseType, CustomerInTransactions, MeterInTransactions],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
