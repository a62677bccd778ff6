"""Wrappers around the pipeline's handlers (Apollo Router plugins, Starlette middleware): each
takes a handler and returns one; :mod:`router.pipeline` fixes their order."""

from __future__ import annotations

from .body_limit import body_limit_layer
from .deadline import deadline_layer
from .dispatch import execute_handler
from .headers import compute_subgraph_headers, header_rules_layer
from .overload import overload_middleware
from .plan_header import query_plan_layer
from .reload import BuildGateway, GatewayLike, GatewayPool, SupergraphWatcher
from .request_id import REQUEST_ID_HEADER, request_id_layer

__all__ = [
    "REQUEST_ID_HEADER",
    "BuildGateway",
    "GatewayLike",
    "GatewayPool",
    "SupergraphWatcher",
    "body_limit_layer",
    "compute_subgraph_headers",
    "deadline_layer",
    "overload_middleware",
    "execute_handler",
    "header_rules_layer",
    "query_plan_layer",
    "request_id_layer",
]
