"""Every error the router raises, each with the ``extensions.code`` a client (or operator) sees.

    RouterError                               code
    ├── RequestError                          the operation is refused; nothing is executed
    │   ├── ParseFailed                       GRAPHQL_PARSE_FAILED
    │   ├── LimitExceeded                     MAX_TOKENS_EXCEEDED, MAX_DEPTH_EXCEEDED, ...
    │   ├── ValidationFailed                  GRAPHQL_VALIDATION_FAILED (also: the operation
    │   │                                     cannot be normalised for planning)
    │   ├── BadUserInput                      BAD_USER_INPUT (variables)
    │   ├── PlanningError                     UNSATISFIABLE, PLANNING_LIMIT_EXCEEDED, ...
    │   └── MutationNotAllowed                METHOD_NOT_ALLOWED (a mutation over GET)
    ├── HttpRequestError                      the HTTP request never became a GraphQL operation
    │   ├── BadRequest               400      BAD_REQUEST (malformed JSON, missing query...)
    │   ├── MethodNotAllowed         405      METHOD_NOT_ALLOWED (not GET/POST)
    │   ├── NotAcceptable            406      NOT_ACCEPTABLE
    │   ├── Unauthenticated          401      UNAUTHENTICATED (a bearer token that is not valid)
    │   ├── PayloadTooLarge          413      PAYLOAD_TOO_LARGE (``limits.max_body_bytes``)
    │   ├── UnsupportedMediaType     415      UNSUPPORTED_MEDIA_TYPE
    │   ├── RateLimited              429      RATE_LIMITED (a rate-limit rule; ``Retry-After``)
    │   └── Overloaded               503      OVERLOADED (large-body gate; ``Retry-After``)
    ├── SupergraphError                       INVALID_SUPERGRAPH, UNSUPPORTED_LINKED_FEATURE
    └── CompositionConfigError                INVALID_COMPOSITION_CONFIG (``supergraph.yaml``)

A :class:`RequestError` can carry several GraphQL errors at once (every limit a document
breaks, every validation error up to the budget); :meth:`RequestError.graphql_errors` gives
them in response shape; an :class:`HttpRequestError` carries its HTTP status. Composition
problems are diagnostics, not exceptions (:mod:`router.composition.diagnostics`). A
subgraph that cannot be reached is ``SubgraphFetchError`` at the subgraph client, turned into a
``SUBGRAPH_FETCH_FAILED`` error in the response by the executor (the request still runs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Literal, cast

from graphql import GraphQLError

__all__ = [
    "BadRequest",
    "BadUserInput",
    "CompositionConfigError",
    "HttpRequestError",
    "LimitExceeded",
    "MethodNotAllowed",
    "MutationNotAllowed",
    "NotAcceptable",
    "Overloaded",
    "ParseFailed",
    "PayloadTooLarge",
    "PlanningError",
    "RateLimited",
    "RequestError",
    "RequestOutcome",
    "RouterError",
    "SupergraphError",
    "Unauthenticated",
    "UnplannableRuntimeType",
    "UnsupportedMediaType",
    "ValidationFailed",
    "error_dict",
    "graphql_error_body",
    "internal_error_body",
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


class CompositionConfigError(RouterError):
    """``schema/supergraph.yaml`` (the composition config) cannot be read or is malformed."""

    default_code = "INVALID_COMPOSITION_CONFIG"


class RequestError(RouterError):
    """The client's operation is refused before anything is fetched (no ``data`` key)."""

    default_code = "GRAPHQL_VALIDATION_FAILED"
    outcome: ClassVar[RequestOutcome] = "request_error"
    data_null: ClassVar[bool] = False  # answered with ``data: null`` (an execution failure), not as a refusal

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


class UnplannableRuntimeType(PlanningError):
    """No valid plan exists for a field of one possible runtime type of an abstract field (say the field is
    ``@external`` in the only graph that returns that type and no other graph can be reached): answered as an
    execution failure, ``data: null`` with this error, as the reference gateways do, never a placeholder value or
    a silently dropped field (docs/router.md §3.9)."""

    data_null = True


class MutationNotAllowed(RequestError):
    """A mutation arrived over GET (answered 405 with ``Allow: POST``)."""

    default_code = "METHOD_NOT_ALLOWED"
    outcome = "method_not_allowed"


# -- HTTP-level refusals -----------------------------------------------------------------


def graphql_error_body(message: str, code: str) -> dict[str, Any]:
    """A spec-shaped response carrying one error and no ``data``."""
    return {"errors": [error_dict(message, code)]}


def internal_error_body(request_id: str) -> dict[str, Any]:
    """What the client sees of an unexpected failure: nothing but the id to find it in the log."""
    return {"errors": [error_dict("Internal server error", "INTERNAL_SERVER_ERROR", requestId=request_id)]}


class HttpRequestError(RouterError):
    """A 4xx before the request became a GraphQL operation; always answered with a GraphQL
    ``errors`` body carrying ``extensions.code``."""

    status: ClassVar[int] = 400
    default_code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code)
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return graphql_error_body(self.message, self.code)


class BadRequest(HttpRequestError):
    status = 400
    default_code = "BAD_REQUEST"


class MethodNotAllowed(HttpRequestError):
    status = 405
    default_code = "METHOD_NOT_ALLOWED"


class NotAcceptable(HttpRequestError):
    status = 406
    default_code = "NOT_ACCEPTABLE"


class PayloadTooLarge(HttpRequestError):
    status = 413
    default_code = "PAYLOAD_TOO_LARGE"


class Unauthenticated(HttpRequestError):
    """A bearer token was sent and is not valid (``router/layers/authentication.py``)."""

    status = 401
    default_code = "UNAUTHENTICATED"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"www-authenticate": 'Bearer error="invalid_token"'})


class UnsupportedMediaType(HttpRequestError):
    status = 415
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimited(HttpRequestError):
    """429: a rate-limit rule refused the request; ``Retry-After`` and ``extensions.retryAfterSeconds``
    say when the window opens again."""

    status = 429
    default_code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after_s)})
        self.retry_after_s = retry_after_s

    def body(self) -> dict[str, Any]:
        return {"errors": [error_dict(self.message, self.code, retryAfterSeconds=self.retry_after_s)]}


class Overloaded(HttpRequestError):
    """503 with ``Retry-After``: the router sheds this request to keep the others' latency."""

    status = 503
    default_code = "OVERLOADED"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message, headers={"retry-after": str(retry_after_s)})
