"""Every error the router raises, each with the ``extensions.code`` a client (or operator) sees.

    RouterError                               code
    ├── RequestError                          the operation is refused; nothing is executed
    │   ├── ParseFailed                       GRAPHQL_PARSE_FAILED
    │   ├── LimitExceeded                     MAX_TOKENS_EXCEEDED, MAX_DEPTH_EXCEEDED, ...
    │   ├── ValidationFailed                  GRAPHQL_VALIDATION_FAILED
    │   ├── BadUserInput                      BAD_USER_INPUT (variables)
    │   ├── PlanningError                     UNSATISFIABLE, PLANNING_LIMIT_EXCEEDED, ...
    │   └── MutationNotAllowed                METHOD_NOT_ALLOWED (a mutation over GET)
    └── SupergraphError                       INVALID_SUPERGRAPH, UNSUPPORTED_LINKED_FEATURE

A :class:`RequestError` can carry several GraphQL errors at once (every limit a document
breaks, every validation error up to the budget); :meth:`RequestError.graphql_errors` gives
them in response shape. HTTP-level refusals (413, 415...) are :mod:`router.http.errors`; a
subgraph that cannot be reached is ``SubgraphFetchError`` at the subgraph client, turned into a
``SUBGRAPH_FETCH_FAILED`` error in the response by the executor (the request still runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

from graphql import GraphQLError

__all__ = [
    "BadUserInput",
    "LimitExceeded",
    "MutationNotAllowed",
    "ParseFailed",
    "PlanningError",
    "RequestError",
    "RequestOutcome",
    "RouterError",
    "SupergraphError",
    "ValidationFailed",
    "error_dict",
]

RequestOutcome = Literal["request_error", "method_not_allowed"]


def error_dict(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """One spec-shaped GraphQL error: ``{"message", "extensions": {"code", ...}}``."""
    return {"message": message, "extensions": {"code": code, **extensions}}


def _from_graphql(err: GraphQLError, code: str) -> dict[str, Any]:
    formatted: dict[str, Any] = dict(cast("Mapping[str, Any]", err.formatted))
    ext = dict(formatted.get("extensions") or {})
    ext.setdefault("code", code)
    formatted["extensions"] = ext
    formatted.pop("path", None)
    return formatted


class RouterError(Exception):
    """Base of every router error: a message and a stable machine-readable ``code``."""

    default_code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class SupergraphError(RouterError):
    """The supergraph SDL is malformed or uses a feature this router does not implement."""

    default_code = "INVALID_SUPERGRAPH"


class RequestError(RouterError):
    """The client's operation is refused before anything is fetched (no ``data`` key)."""

    default_code = "GRAPHQL_VALIDATION_FAILED"
    outcome: ClassVar[RequestOutcome] = "request_error"

    def __init__(self, message: str, code: str | None = None, *, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message, code)
        self._errors = list(errors)

    def graphql_errors(self) -> list[dict[str, Any]]:
        return list(self._errors) if self._errors else [error_dict(self.message, self.code)]

    @classmethod
    def from_graphql(cls, errors: Iterable[GraphQLError], code: str | None = None) -> RequestError:
        """One request error for graphql-core errors (their locations kept, ``code`` added)."""
        shaped = [_from_graphql(err, code or cls.default_code) for err in errors]
        return cls(shaped[0]["message"] if shaped else "request error", code, errors=shaped)


class ParseFailed(RequestError):
    default_code = "GRAPHQL_PARSE_FAILED"


class LimitExceeded(RequestError):
    """The document or operation is over a configured limit (:mod:`router.stages.limits`);
    each breach is one error with ``extensions.limit`` (and ``actual`` when it was counted)."""

    default_code = "LIMIT_EXCEEDED"


class ValidationFailed(RequestError):
    default_code = "GRAPHQL_VALIDATION_FAILED"


class BadUserInput(RequestError):
    default_code = "BAD_USER_INPUT"


class PlanningError(RequestError):
    """The operation cannot be planned: ``UNSATISFIABLE`` (no subgraph path resolves a field),
    ``PLANNING_LIMIT_EXCEEDED`` (the work bound was hit), ``ENUM_VALUE_NOT_IN_SUBGRAPH``, or a
    validation code for an operation the planner cannot normalise."""

    default_code = "UNSATISFIABLE"


class MutationNotAllowed(RequestError):
    """A mutation arrived over GET (answered 405 with ``Allow: POST``)."""

    default_code = "METHOD_NOT_ALLOWED"
    outcome = "method_not_allowed"
