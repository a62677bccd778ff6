"""The one way a plain-JSON service (the biller, the payment provider) becomes an ASGI app.

They speak JSON, not GraphQL, so :func:`.service_app.create_service_app` does not fit them, but they need the
same plumbing as every service: the schema prepared at start-up and the database closed at the end, ``/health``,
``/ready``, ``/metrics``, request-head limits, request ids and metrics, and a JSON 500 that keeps the traceback
in the log. Each service brings its own routes and its start-up and shut-down work. Errors are
``{"code", "message"}`` with a 4xx (or 500) status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import MetaData
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from .db import Database
from .http_limits import HeaderLimitMiddleware
from .migrations import Migrations
from .observability import Observability, ObservabilityMiddleware
from .service_app import SchemaReadiness, service_lifespan
from .settings import ServiceSettings
from .tracing import configure_tracing

__all__ = ["JsonRefusal", "json_error", "json_object", "json_response", "json_service_app", "signed_endpoint"]

BodyHandler = Callable[[Request, bytes], Awaitable[Response]]
BodyEndpoint = Callable[[Request], Awaitable[Response]]


class JsonRefusal(Exception):
    """A request refused with a 4xx: ``status`` and ``code`` go to the answer ``{"code", "message"}``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


def json_response(content: Any, status: int = 200) -> Response:
    """orjson: the same compact UTF-8 JSON as starlette's ``JSONResponse``, several times faster."""
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


def json_error(status: int, code: str, message: str) -> Response:
    return json_response({"code": code, "message": message}, status)


def json_object(body: bytes, *, code: str) -> dict[str, Any]:
    """The request body as a JSON object, else a 400 with ``code`` (each service keeps its own)."""
    try:
        data = orjson.loads(body or b"null")
    except orjson.JSONDecodeError:
        raise JsonRefusal(400, code, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise JsonRefusal(400, code, "the body must be a JSON object")
    return data


def signed_endpoint(authenticate: Callable[[Request, bytes], None], handler: BodyHandler) -> BodyEndpoint:
    """A route that reads the body, lets ``authenticate`` refuse the caller (by raising :class:`JsonRefusal`,
    before the body is parsed) and then runs ``handler``; a refusal from either becomes its JSON 4xx.

    The biller (service tokens) and the payment provider (an HMAC over the request) differ only in
    ``authenticate``."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        try:
            authenticate(request, body)
            return await handler(request, body)
        except JsonRefusal as refused:
            return json_error(refused.status, refused.code, str(refused))

    return endpoint


def json_service_app(
    name: str,
    settings: ServiceSettings,
    db: Database,
    *,
    migrations: Path,
    metadata: MetaData,
    routes: Sequence[BaseRoute],
    title: str | None = None,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    state: Mapping[str, Any] | None = None,
) -> Starlette:
    """``routes`` behind the shared plumbing. ``on_startup`` runs once the schema is ready, ``on_shutdown``
    before the database is closed; ``state`` goes on ``app.state`` (with ``settings``, ``db`` and
    ``observability``); ``title`` names the service in the 500 message (default: "the <name>")."""
    logger = logging.getLogger(f"setrum.{name}")
    readiness = SchemaReadiness(db, Migrations(name, migrations), settings.schema_mode)
    observability = Observability(name)
    db.count_round_trips(observability.db_statements.inc, observability.db_transactions.inc)
    configure_tracing(name)

    async def health(_: Request) -> Response:
        return json_response({"status": "UP", "service": name})

    async def unexpected(request: Request, exc: Exception) -> Response:
        # The traceback goes to the log (which never holds a secret); the client gets a code.
        logger.exception("unexpected error on %s %s", request.method, request.url.path)
        return json_error(500, "INTERNAL_SERVER_ERROR", f"{title or 'the ' + name} hit an unexpected error")

    app = Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", readiness.endpoint, methods=["GET"]),
            *routes,
            Route("/metrics", observability.metrics_endpoint, methods=["GET"]),
        ],
        lifespan=service_lifespan(
            name, settings, readiness, metadata, on_startup=on_startup, on_shutdown=on_shutdown, log=logger
        ),
        exception_handlers={Exception: unexpected},
        middleware=[
            Middleware(HeaderLimitMiddleware, limits=settings.header_limits),
            Middleware(ObservabilityMiddleware, observability=observability),
        ],
    )
    app.state.settings = settings
    app.state.db = db
    app.state.observability = observability
    for key, value in (state or {}).items():
        setattr(app.state, key, value)
    return app
