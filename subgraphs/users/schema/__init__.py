"""The strawberry Federation 2 schema of the users subgraph."""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .mutations import Mutation
from .queries import Query
from .types import AuthPayload, Customer, Role

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=Query,
    mutation=Mutation,
    types=[Customer, AuthPayload, Role],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
