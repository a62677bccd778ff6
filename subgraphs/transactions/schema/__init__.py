"""The strawberry Federation 2 schema of the transactions subgraph."""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .entities import Customer, Meter
from .mutations import Mutation
from .queries import Query
from .types import Purchase

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[Purchase, Customer, Meter],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
