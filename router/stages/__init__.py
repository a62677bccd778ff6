"""The request pipeline inside the gateway, one module per stage:

    parse     (:mod:`.parse`)     query text -> document, once per request (cached by text);
                                  the token limit refuses oversized documents first
    validate  (:mod:`.validate`)  pick the operation; limit rules, then graphql-core's rules
                                  (:mod:`.limits`); cached per (text, operation name)
    authorize (:mod:`.authorize`) @authenticated/@requiresScopes/@policy against the caller's
                                  claims: denied selections removed (or the operation refused)
    coerce    (:mod:`.coerce`)    variable values against the operation's variable types
    plan      (:mod:`.plan`)      the query plan, cached on the prepared operation
    execute   (:mod:`.execute`)   run the plan against the subgraphs (optionally de-duplicated)
    project   (:mod:`.project`)   shape the merged data into the client's response

A :class:`RequestContext` carries the request through them. :class:`router.gateway.Gateway`
composes the stages; the HTTP layers around it are :mod:`router.pipeline`.
"""

from __future__ import annotations

from .access.policies import PolicyError, PolicyTable
from .authorize import AuthorizationOptions, OperationAuthorizer
from .coerce import coerce_variables
from .execute import InflightQueries, PlanExecutor, headers_with_claims, possible_types
from .limits import OperationLimits
from .parse import DocumentParser
from .plan import OperationPlanner, Planner
from .project import project_response
from .request_context import PreparedOperation, RequestContext
from .validate import OperationValidator

__all__ = [
    "AuthorizationOptions",
    "OperationAuthorizer",
    "PolicyError",
    "PolicyTable",
    "DocumentParser",
    "InflightQueries",
    "OperationLimits",
    "OperationPlanner",
    "OperationValidator",
    "PlanExecutor",
    "Planner",
    "PreparedOperation",
    "RequestContext",
    "coerce_variables",
    "headers_with_claims",
    "possible_types",
    "project_response",
]
