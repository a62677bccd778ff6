"""Stage 3, coerce variables: check the client's values against the operation's variable types.

Subgraphs receive the values as the client sent them (defaults filled in); the coerced values
are only used by the router itself, for ``@skip``/``@include`` conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from graphql import GraphQLSchema
from graphql.execution.values import get_variable_values

from router.errors import BadUserInput

from .request_context import RequestContext

__all__ = ["coerce_variables"]


def coerce_variables(schema: GraphQLSchema, ctx: RequestContext, *, max_errors: int) -> None:
    """Fill ``ctx.send_variables`` and ``ctx.conditions``; raises :class:`BadUserInput`."""
    variables = ctx.variables
    if variables is None:
        variables = {}
    elif not isinstance(variables, dict):
        raise BadUserInput("Variables must be a JSON object.")
    ctx.variables = variables
    prepared = ctx.operation
    if not prepared.var_defs:
        ctx.send_variables, ctx.conditions = {}, {}
        return
    coerced = get_variable_values(schema, prepared.var_defs, variables, max_errors=max_errors)
    if isinstance(coerced, list):
        raise BadUserInput.from_graphql(coerced)
    # graphql-core 3.3 wraps the coerced values (``.coerced``); 3.2 returned the dict itself.
    conditions = cast("Mapping[str, Any]", getattr(coerced, "coerced", coerced))
    if prepared.defaults:
        send = dict(prepared.defaults)
        send.update(variables)
    else:
        send = variables
    ctx.send_variables, ctx.conditions = send, conditions
