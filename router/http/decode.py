"""Decode an HTTP request into GraphQL request parameters (GraphQL-over-HTTP spec §"Request").

``POST`` takes an ``application/json`` body (an object, or an array when batching is enabled);
``GET`` takes ``query``/``variables``/``operationName``/``extensions`` from the URL and may only
run queries (the gateway refuses mutations when ``allow_mutations`` is false, answered as 405).
Every malformed request is an :class:`~router.errors.HttpRequestError`, never a 500.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from router.errors import (
    BadRequest,
    HttpRequestError,
    MethodNotAllowed,
    NotAcceptable,
    UnsupportedMediaType,
)

from .context import GraphQLRequest, Handler, Layer, RouterRequest, RouterResponse
from .negotiation import EVENT_STREAM, choose_media_type, is_json_content_type

__all__ = ["decode_layer", "parse_params"]


def parse_params(raw: Any, *, source: str = "body") -> GraphQLRequest:
    """Validate one request-parameters object (already JSON-decoded)."""
    if not isinstance(raw, dict):
        raise BadRequest(f"the request {source} must be a JSON object", code="INVALID_REQUEST")
    query = raw.get("query")
    extensions = raw.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("'extensions' must be an object", code="INVALID_EXTENSIONS")
    if query is None and extensions and "persistedQuery" in extensions:
        query = ""  # the persisted-queries layer finds the document by its hash
    elif query is None:
        raise BadRequest("missing 'query' in the request", code="MISSING_QUERY")
    elif not isinstance(query, str):
        raise BadRequest("'query' must be a string", code="INVALID_QUERY")
    elif not query.strip():
        raise BadRequest("'query' must not be empty", code="MISSING_QUERY")
    variables = raw.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be an object", code="INVALID_VARIABLES")
    operation_name = raw.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("'operationName' must be a string", code="INVALID_OPERATION_NAME")
    return GraphQLRequest(query, variables, operation_name or None, extensions)


def _json_param(params: Any, name: str) -> Any:
    value = params.get(name)
    if value is None or value == "":
        return None
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise BadRequest(f"'{name}' is not valid JSON", code=f"INVALID_{name.upper()}") from None


def _decode_get(request: RouterRequest) -> GraphQLRequest:
    params = request.http.query_params
    raw = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
        "variables": _json_param(params, "variables"),
        "extensions": _json_param(params, "extensions"),
    }
    return parse_params(raw, source="URL")


async def _body(request: RouterRequest) -> bytes:
    return request.body if request.body is not None else await request.http.body()


def decode_layer(*, batching: bool = False, max_batch_size: int = 10) -> Layer:
    """HTTP decode stage: negotiate, check method/content type, parse the parameters."""

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            http = request.http
            media_type = choose_media_type(http.headers.get("accept"))
            if media_type is None:
                raise NotAcceptable(
                    "accept application/graphql-response+json, application/json or text/event-stream",
                    code="NOT_ACCEPTABLE",
                )
            request = request.evolve(media_type=media_type)
            if http.method == "GET":
                return await inner(request.evolve(graphql=_decode_get(request), allow_mutations=False))
            if http.method != "POST":
                raise MethodNotAllowed(f"method {http.method} is not allowed", headers={"allow": "GET, POST"})
            if not is_json_content_type(http.headers.get("content-type")):
                raise UnsupportedMediaType("POST bodies must be application/json (UTF-8)")
            try:
                raw = orjson.loads(await _body(request))
            except orjson.JSONDecodeError:
                raise BadRequest("the request body is not valid JSON", code="INVALID_JSON") from None
            if isinstance(raw, list):
                if media_type == EVENT_STREAM:
                    raise BadRequest("a batch cannot be answered as an event stream", code="INVALID_BATCH")
                return await _batch(inner, request, raw, batching=batching, max_size=max_batch_size)
            return await inner(request.evolve(graphql=parse_params(raw)))

        return handle

    return wrap


async def _batch(
    inner: Handler, request: RouterRequest, raw: list[Any], *, batching: bool, max_size: int
) -> RouterResponse:
    """Run each entry of a batch through the rest of the pipeline, concurrently."""
    if not batching:
        raise BadRequest("batched requests are not enabled", code="BATCHING_NOT_ENABLED")
    if not raw:
        raise BadRequest("the batch is empty", code="INVALID_BATCH")
    if len(raw) > max_size:
        raise BadRequest(f"the batch has {len(raw)} operations, the limit is {max_size}", code="BATCH_LIMIT_EXCEEDED")

    async def one(entry: Any) -> RouterResponse:
        # A malformed entry fails alone; the others still run.
        try:
            params = parse_params(entry, source="batch entry")
        except HttpRequestError as exc:
            return RouterResponse(body=exc.body(), outcome="request_error")
        return await inner(request.evolve(graphql=params, batched=True))

    responses = await asyncio.gather(*(one(entry) for entry in raw))
    bodies: list[dict[str, Any]] = []
    for response in responses:
        assert isinstance(response.body, dict)
        bodies.append(response.body)
    headers: dict[str, str] = {}
    for response in responses:
        headers.update(response.headers)
    return RouterResponse(body=bodies, outcome="ok", headers=headers)
