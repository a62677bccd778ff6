"""The strawberry Federation 2 schema of the users subgraph.

Python class names follow docs/architecture.md §2 In a subgraph (the GraphQL names are given with ``name=``).
"""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .mutations import UsersMutation
from .queries import UsersQuery
from .types import AuthPayload, CustomerType, RoleType

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=UsersQuery,
    mutation=UsersMutation,
    types=[CustomerType, AuthPayload, RoleType],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
