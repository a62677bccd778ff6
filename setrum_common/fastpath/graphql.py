"""The subgraphs' GraphQL endpoint: a short path for the router's requests, strawberry's view for the rest
(and for everything when ``SETRUM_FASTPATH=off``: see :func:`graphql_endpoint`).

Nearly every request a subgraph sees is the router's: ``POST`` with a JSON body ``{query,
variables, operationName}`` whose query text repeats (the router sends the same few fetch
documents over and over). For those this endpoint parses and validates each distinct text once,
runs graphql-core's ``execute`` on strawberry's compiled schema (the very resolvers strawberry
would call) and answers with orjson. strawberry's HTTP view and ``Schema.execute`` wrap the same
call in layers of adapters, extension runners and context objects that cost more CPU than a
typical subgraph fetch (about 0.25 ms per request, measured on ``{ __typename }``).

A POSTed JSON body that is not a JSON object (``null``, ``123``, a batch) or not valid UTF-8 JSON is
answered ``400`` with a ``BAD_REQUEST`` GraphQL error on both paths (:func:`read_json_body`).
Everything else goes to strawberry's view unchanged: GET, other content types, and any document
that does not parse or validate (so those errors read exactly as before). Results are coded the same way on both paths
(:func:`setrum_common.errors.code_errors`). Our schemas use no resolver middleware or extension
results, so nothing else differs. The short path reads strawberry's private compiled schema
(``Schema._schema``) and calls graphql-core directly: both are fenced by upper bounds in
``pyproject.toml``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
import strawberry
from graphql import DocumentNode, ExecutionResult, GraphQLError, GraphQLSchema, OperationType, execute, parse, validate
from graphql.language import OperationDefinitionNode
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.execution import optimized_is_awaitable

from ..errors import code_errors

__all__ = ["CheckedBodyView", "FastGraphQLEndpoint", "bad_request", "graphql_endpoint", "read_json_body", "replay_body"]

_MAX_DOCUMENTS = 512  # distinct query texts kept (a hostile client cannot grow it beyond this)
_JSON = (b"content-type", b"application/json")


class _Documents:
    """Parsed and validated documents by query text (an LRU of the ones that passed both)."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self._schema = schema
        self._ok: OrderedDict[str, tuple[DocumentNode, dict[str | None, OperationType]]] = OrderedDict()

    def get(self, query: str) -> tuple[DocumentNode, dict[str | None, OperationType]] | None:
        found = self._ok.get(query)
        if found is not None:
            self._ok.move_to_end(query)
            return found
        try:
            document = parse(query)
        except GraphQLError:
            return None
        if validate(self._schema, document):
            return None
        operations = {
            (d.name.value if d.name else None): d.operation
            for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
        }
        self._ok[query] = found = (document, operations)
        if len(self._ok) > _MAX_DOCUMENTS:
            self._ok.popitem(last=False)
        return found


class FastGraphQLEndpoint:
    """ASGI endpoint: the short path described above, ``fallback`` (strawberry's view) otherwise.

    ``make_context(request)`` builds ``info.context`` (its ``request_id``, if any, goes on masked
    errors); ``record(operation, outcome, seconds)`` counts the operation in the service's metrics."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fallback: ASGIApp,
        *,
        make_context: Callable[[Request], Awaitable[Any]],
        record: Callable[[str | None, str, float], None] | None = None,
    ) -> None:
        self._schema = schema
        self._fallback = fallback
        self._make_context = make_context
        self._record = record
        self._documents = _Documents(schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_json(scope):
            await self._fallback(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        payload, problem = read_json_body(body)
        if problem is not None:
            await bad_request(send, problem)
            return
        prepared = self._prepare(payload)
        if prepared is None:
            await self._fallback(scope, replay_body(body), send)
            return
        document, operation_name, variables, label = prepared
        started = time.perf_counter()
        context = await self._make_context(request)
        outcome = execute(
            self._schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value=context,
            is_awaitable=cast(Any, optimized_is_awaitable),  # typed as a plain bool predicate
        )
        result = outcome if isinstance(outcome, ExecutionResult) else await outcome
        response: dict[str, Any] = {"data": result.data}
        errors = result.errors
        if errors:
            coded = code_errors(list(errors), getattr(context, "request_id", None))
            response["errors"] = [error.formatted for error in coded]
        if self._record is not None:
            self._record(label, "error" if errors else "ok", time.perf_counter() - started)
        await send({"type": "http.response.start", "status": 200, "headers": [_JSON]})
        await send({"type": "http.response.body", "body": orjson.dumps(response)})

    def _prepare(
        self, payload: dict[str, Any]
    ) -> tuple[DocumentNode, str | None, dict[str, Any] | None, str | None] | None:
        """(document, operation name, variables, name for metrics) for the short path, or None for
        strawberry's view."""
        query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        if not isinstance(query, str) or not (variables is None or isinstance(variables, dict)):
            return None
        if not (name is None or isinstance(name, str)):
            return None
        found = self._documents.get(query)
        if found is None:
            return None
        document, operations = found
        if name is None and len(operations) != 1:
            return None  # strawberry explains a missing operation name
        label = name if name is not None else next(iter(operations))
        if operations.get(label) not in (OperationType.QUERY, OperationType.MUTATION):
            return None
        return document, name, variables, label


def read_json_body(body: bytes) -> tuple[dict[str, Any], str | None]:
    """A POST body as a GraphQL request object, or why it cannot be one. strawberry's view answers a
    body that is valid JSON but no object (``null``, ``123``, ``"s"``, ``true``) with a plain-text 500,
    and invalid UTF-8 inside a string likewise: both paths refuse them here first."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}, "the request body is not valid JSON (UTF-8)"
    if isinstance(payload, list):
        return {}, "batched requests are not supported"
    if not isinstance(payload, dict):
        return {}, "the request body must be a JSON object"
    return payload, None


async def bad_request(send: Send, message: str) -> None:
    """``400`` with a GraphQL error body (code ``BAD_REQUEST``)."""
    body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]})
    await send({"type": "http.response.start", "status": 400, "headers": [_JSON]})
    await send({"type": "http.response.body", "body": body})


class CheckedBodyView:
    """The stock path: strawberry's view behind :func:`read_json_body` for POSTed JSON."""

    def __init__(self, view: ASGIApp) -> None:
        self._view = view

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not _is_json(scope):
            await self._view(scope, receive, send)
            return
        body = await Request(scope, receive).body()
        _, problem = read_json_body(body)
        if problem is not None:
            await bad_request(send, problem)
            return
        await self._view(scope, replay_body(body), send)


def _is_json(scope: Scope) -> bool:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/json")
    return False


def replay_body(body: bytes) -> Receive:
    """A ``receive`` that hands the already-read body to the fallback app."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def graphql_endpoint(
    schema: strawberry.Schema,
    view: ASGIApp,
    *,
    fast: bool,
    make_context: Callable[[Request], Awaitable[Any]],
    record: Callable[[str | None, str, float], None] | None = None,
) -> ASGIApp:
    """The ``/graphql`` ASGI app: the short path in front of strawberry's ``view`` when ``fast``,
    else ``view`` behind the body check alone (strawberry's public API only)."""
    if not fast:
        return CheckedBodyView(view)
    return FastGraphQLEndpoint(schema._schema, view, make_context=make_context, record=record)
