"""Stage 6, project: shape the merged subgraph data as the client asked (aliases, fragments,
skip/include, null propagation; :mod:`router.execution.projection`), splice in local
introspection, and assemble the response body."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema

from router.execution import ExecutionOutcome, OperationProjection, run_introspection
from router.planning.printer import plan_to_json

from .request_context import RequestContext

__all__ = ["project_response"]


def project_response(
    schema: GraphQLSchema,
    ctx: RequestContext,
    outcome: ExecutionOutcome,
    projection: OperationProjection | None = None,
) -> dict[str, Any]:
    """``projection``: another compiled projection of the operation (the primary part of an
    incremental response leaves its deferred fragments out)."""
    prepared = ctx.operation
    introspection = None
    errors = outcome.errors + ctx.authorization_errors if ctx.authorization_errors else outcome.errors
    if prepared.intro_document is not None:
        introspection, intro_errors = run_introspection(schema, prepared.intro_document, ctx.variables)
        if intro_errors:
            errors = errors + intro_errors
    projected = (projection or prepared.projection).project(
        outcome.data, conditions=ctx.conditions, covered=outcome.covered, introspection=introspection
    )
    body: dict[str, Any] = {"data": projected.data}
    if projected.errors:
        errors = errors + projected.errors
    if errors:
        body["errors"] = errors
    if ctx.include_plan and ctx.plan is not None:
        body["extensions"] = {"queryPlan": plan_to_json(ctx.plan)}
    return body
