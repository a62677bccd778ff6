"""The master subgraph's strawberry Federation 2 schema."""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .entities import Customer, Meter, SavedMeter
from .mutations import Mutation
from .queries import Query

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[Meter, Customer, SavedMeter],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
