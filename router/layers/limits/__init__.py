"""Request limits (Apollo Router's ``limits`` plugin): body size, and per-operation depth,
aliases and root fields counted on the parsed document. One rule per module; a request over
any limit gets a GraphQL request error (400 with graphql-response+json) naming every breach."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.settings import LimitsSettings

from ._document import Operation, select_operation
from .aliases import operation_aliases
from .body_size import body_limit_layer, read_body_limited
from .depth import operation_depth
from .root_fields import operation_root_fields

__all__ = [
    "body_limit_layer",
    "check_operation_limits",
    "operation_aliases",
    "operation_depth",
    "operation_limits_layer",
    "operation_root_fields",
    "read_body_limited",
]

_Rule = tuple[str, str, Callable[[Operation], int]]
_RULES: tuple[_Rule, ...] = (
    ("max_depth", "MAX_DEPTH_EXCEEDED", operation_depth),
    ("max_aliases", "MAX_ALIASES_EXCEEDED", operation_aliases),
    ("max_root_fields", "MAX_ROOT_FIELDS_EXCEEDED", operation_root_fields),
)
_LABELS = {"max_depth": "depth", "max_aliases": "aliases", "max_root_fields": "root fields"}


def check_operation_limits(
    limits: LimitsSettings, query: str, operation_name: str | None = None
) -> list[dict[str, Any]]:
    """Spec-shaped errors for every limit the operation breaks (empty when within limits)."""
    active = [(attr, code, rule) for attr, code, rule in _RULES if getattr(limits, attr) is not None]
    if not active:
        return []
    operation = select_operation(query, operation_name)
    if operation is None:
        return []
    errors = []
    for attr, code, rule in active:
        limit = getattr(limits, attr)
        actual = rule(operation)
        if actual > limit:
            errors.append(
                {
                    "message": f"operation {_LABELS[attr]} {actual} exceeds the limit of {limit}",
                    "extensions": {"code": code, "limit": limit, "actual": actual},
                }
            )
    return errors


def operation_limits_layer(limits: LimitsSettings) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            assert request.graphql is not None, "operation limits run after decoding"
            errors = check_operation_limits(limits, request.graphql.query, request.graphql.operation_name)
            if errors:
                return RouterResponse(body={"errors": errors}, outcome="request_error")
            return await inner(request)

        return handle

    return wrap
