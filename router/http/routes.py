"""The router's HTTP surface: ``/graphql``, ``/`` (GraphiQL), ``/health`` and the GraphiQL assets.

A browser navigation (``Accept: text/html``, no ``query`` parameter) on ``/graphql`` or ``/`` gets
GraphiQL when it is enabled; everything else on ``/graphql`` goes through the pipeline. Unknown
paths and framework-level errors answer with a GraphQL-shaped JSON body, never an HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from router.errors import graphql_error_body, internal_error_body

from .encode import Endpoint, graphql_response, request_id_of
from .graphiql import STATIC_DIR, STATIC_PREFIX, graphiql_response, render_graphiql
from .negotiation import accepts_html

__all__ = ["GRAPHQL_PATH", "HEALTH_PATH", "exception_handlers", "health", "http_routes"]

logger = logging.getLogger("router.http")

GRAPHQL_PATH = "/graphql"
HEALTH_PATH = "/health"
_ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def health(request: Request) -> Response:
    """Liveness probe, shaped like Apollo Router's ``/health``."""
    return graphql_response({"status": "UP"}, status=200)


def _wants_graphiql(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and "query" not in request.query_params
        and accepts_html(request.headers.get("accept"))
    )


def http_routes(endpoint: Endpoint, *, graphiql: bool) -> list[BaseRoute]:
    page = render_graphiql(endpoint=GRAPHQL_PATH)

    async def graphql(request: Request) -> Response:
        if graphiql and _wants_graphiql(request):
            return graphiql_response(page)
        return await endpoint(request)

    async def index(request: Request) -> Response:
        if graphiql and _wants_graphiql(request):
            return graphiql_response(page)
        return graphql_response(
            graphql_error_body(f"nothing here; GraphQL is served at {GRAPHQL_PATH}", "NOT_FOUND"), status=404
        )

    routes: list[BaseRoute] = [
        # Every method reaches the decoder, which answers the unsupported ones with a GraphQL
        # 405 body (Starlette's own 405 would be plain text).
        Route(GRAPHQL_PATH, graphql, methods=_ALL_METHODS),
        Route("/", index, methods=["GET"]),
        Route(HEALTH_PATH, health, methods=["GET"]),
    ]
    if graphiql:
        routes.append(Mount(STATIC_PREFIX, app=StaticFiles(directory=STATIC_DIR), name="graphiql-static"))
    return routes


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    return graphql_response(
        graphql_error_body(str(exc.detail), code), status=exc.status_code, headers=dict(exc.headers or {})
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    request_id = request_id_of(request)
    logger.error("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id, exc_info=exc)
    return graphql_response(internal_error_body(request_id), status=500, headers={"x-request-id": request_id})


exception_handlers: dict[Any, Any] = {HTTPException: _http_exception, Exception: _server_error}
