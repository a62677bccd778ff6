"""The master subgraph's strawberry Federation 2 schema.

Python class names follow docs/architecture.md §2 In a subgraph (the GraphQL names are given with ``name=``).
"""

from __future__ import annotations

import strawberry

from setrum_common.service_app import SUBGRAPH_EXTENSIONS

from .entities import CustomerInMaster, MeterType, SavedMeterType
from .mutations import MasterMutation
from .queries import MasterQuery

__all__ = ["schema"]

schema = strawberry.federation.Schema(
    query=MasterQuery,
    mutation=MasterMutation,
    types=[MeterType, CustomerInMaster, SavedMeterType],
    extensions=list(SUBGRAPH_EXTENSIONS),
)
