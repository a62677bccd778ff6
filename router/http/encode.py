"""Encode pipeline results as HTTP responses (GraphQL-over-HTTP spec §"Response").

Status codes depend on the negotiated media type: with ``application/graphql-response+json``
a request error (parse/validation/limits, no ``data``) is 400; with legacy ``application/json``
every well-formed GraphQL response is 200. A mutation over GET is 405 with ``Allow: POST`` either
way. Bodies are serialised with orjson.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from router.errors import HttpRequestError, internal_error_body

from .context import Handler, MediaType, RouterRequest, RouterResponse
from .multipart import multipart_response
from .negotiation import GRAPHQL_RESPONSE_JSON, JSON, choose_media_type, json_media_type

__all__ = ["Endpoint", "encode_endpoint", "graphql_response", "request_id_of", "status_for"]

logger = logging.getLogger("router.http")

Endpoint = Callable[[Request], Awaitable[Response]]


def status_for(response: RouterResponse, media_type: MediaType) -> int:
    if response.status is not None:
        return response.status
    if response.outcome == "method_not_allowed":
        return 405
    if response.outcome == "request_error" and media_type == GRAPHQL_RESPONSE_JSON:
        return 400
    return 200


def graphql_response(
    body: Any, *, status: int, media_type: MediaType = JSON, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        headers=headers,
        media_type=f"{media_type}; charset=utf-8",
    )


def request_id_of(request: Request) -> str:
    """The id the request-id layer gave this request, or a fresh one if it never got that far."""
    found = getattr(request.state, "request_id", None)
    if isinstance(found, str):
        return found
    request.state.request_id = fresh = uuid.uuid4().hex
    return fresh


def encode_endpoint(handler: Handler) -> Endpoint:
    """The encode stage: run the pipeline and turn its result or its refusal into HTTP."""

    async def endpoint(request: Request) -> Response:
        try:
            result = await handler(RouterRequest(http=request))
        except HttpRequestError as exc:
            media_type = json_media_type(choose_media_type(request.headers.get("accept")))
            return graphql_response(exc.body(), status=exc.status, media_type=media_type, headers=exc.headers)
        except Exception:
            # A bug, not bad input: the traceback goes to the log under the request id, the
            # client gets the id only (error masking, as Apollo Router and Hive Gateway do).
            request_id = request_id_of(request)
            logger.exception(
                "unhandled error while serving %s %s (request %s)", request.method, request.url.path, request_id
            )
            return graphql_response(internal_error_body(request_id), status=500, headers={"x-request-id": request_id})
        if result.streaming is not None:
            return result.streaming
        if result.stream is not None and isinstance(result.body, dict):
            return multipart_response(result.body, result.stream, headers=result.headers)
        # Negotiation is a pure function of Accept, so this repeats the decoder's choice.
        media_type = json_media_type(choose_media_type(request.headers.get("accept")))
        return graphql_response(
            result.body, status=status_for(result, media_type), media_type=media_type, headers=result.headers
        )

    return endpoint
