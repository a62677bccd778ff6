"""Stage 2b, authorize: enforce ``@authenticated``, ``@requiresScopes`` and ``@policy`` before planning
(docs/router.md §8 Authorization).

For the prepared operation (its guarded selections are computed once) and the caller's verified claims,
find the selections the caller may not see. Then, by mode:

- filter (default): plan a copy of the operation without them; they come back as null with an
  ``UNAUTHORIZED_FIELD_OR_TYPE`` error at their paths and no subgraph is asked for them. The copy and its
  plans are cached on the prepared operation per set of denied selections, so callers with the same
  outcome share a plan and a caller never gets a plan filtered for someone else;
- ``reject_unauthorized``: refuse the whole operation with one such error per path (nothing executed);
- ``dry_run``: execute the operation unchanged, log what would have been removed and report it as errors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema

from router.errors import RequestError
from router.execution.projection import UNAUTHORIZED_CODE, unauthorized_error
from router.supergraph.access import AccessRules

from .access.guards import Guard, collect_guards, denied_nodes
from .access.policies import PolicyTable
from .request_context import RequestContext

__all__ = ["AuthorizationOptions", "OperationAuthorizer"]

logger = logging.getLogger("router.authorization")

_RESTRICTED_PER_OPERATION = 16  # distinct authorization outcomes kept per operation


@dataclass
class AuthorizationOptions:
    enabled: bool = True
    reject_unauthorized: bool = False
    dry_run: bool = False
    policies: PolicyTable = field(default_factory=PolicyTable)


class OperationAuthorizer:
    def __init__(self, schema: GraphQLSchema, rules: AccessRules, options: AuthorizationOptions) -> None:
        self._schema = schema
        self._rules = rules
        self._options = options
        missing = rules.policy_names() - options.policies.names()
        if missing and options.enabled:
            logger.warning("policies used by the schema but not configured (always denied): %s", sorted(missing))

    def authorize(self, ctx: RequestContext) -> None:
        """Restrict ``ctx.prepared`` to what the caller may see, or raise a :class:`RequestError`
        (``reject_unauthorized``)."""
        if self._rules.empty or not self._options.enabled:
            return
        prepared = ctx.operation
        guards = prepared.guards
        if guards is None:
            guards = prepared.guards = collect_guards(self._schema, self._rules, prepared.operation, prepared.fragments)
        if not guards:
            return
        denied, denied_guards = denied_nodes(guards, ctx.claims, self._options.policies)
        if not denied:
            return
        errors = _query_path_errors(denied_guards)
        if self._options.dry_run:
            logger.info("authorization dry run: would remove %s", [e["path"] for e in errors])
            ctx.authorization_errors = errors
            return
        if self._options.reject_unauthorized:
            raise RequestError("Unauthorized field or type", UNAUTHORIZED_CODE, errors=errors)
        restricted = prepared.restricted.get(denied)
        if restricted is None:
            restricted = prepared.without(self._schema, denied)
            if len(prepared.restricted) < _RESTRICTED_PER_OPERATION:
                prepared.restricted[denied] = restricted
        ctx.prepared = restricted


def _query_path_errors(guards: list[Guard]) -> list[dict[str, Any]]:
    """One error per response path in the operation (no list indices: nothing was fetched yet)."""
    paths: dict[tuple[str, ...], None] = {}
    for g in guards:
        for p in g.paths:
            paths.setdefault(p, None)
    return [unauthorized_error(list(p)) for p in paths]
