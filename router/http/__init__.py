"""GraphQL-over-HTTP edge: request decoding (GET/POST/batch), content negotiation, response
encoding, GraphiQL and the health probe. Layers elsewhere share its vocabulary
(:mod:`router.http.context`)."""

from __future__ import annotations

from router.errors import (
    BadRequest,
    HttpRequestError,
    MethodNotAllowed,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
    graphql_error_body,
)

from .context import (
    GraphQLRequest,
    Handler,
    Layer,
    MediaType,
    Outcome,
    RouterRequest,
    RouterResponse,
)
from .decode import decode_layer, parse_params
from .encode import Endpoint, encode_endpoint, graphql_response, status_for
from .negotiation import (
    GRAPHQL_RESPONSE_JSON,
    JSON,
    accepts_html,
    choose_media_type,
    is_json_content_type,
)
from .routes import GRAPHQL_PATH, HEALTH_PATH, exception_handlers, health, http_routes

__all__ = [
    "GRAPHQL_PATH",
    "GRAPHQL_RESPONSE_JSON",
    "HEALTH_PATH",
    "JSON",
    "BadRequest",
    "Endpoint",
    "GraphQLRequest",
    "Handler",
    "HttpRequestError",
    "Layer",
    "MediaType",
    "MethodNotAllowed",
    "NotAcceptable",
    "Outcome",
    "PayloadTooLarge",
    "RouterRequest",
    "RouterResponse",
    "UnsupportedMediaType",
    "accepts_html",
    "choose_media_type",
    "decode_layer",
    "encode_endpoint",
    "exception_handlers",
    "graphql_error_body",
    "graphql_response",
    "health",
    "http_routes",
    "is_json_content_type",
    "parse_params",
    "status_for",
]
