"""The one way every subgraph becomes an ASGI app: strawberry on starlette, plus health checks.

A subgraph supplies its strawberry schema, settings, database and an optional start-up hook
(seeding); this module adds the request context (viewer, per-request DataLoaders, request id),
error coding, ``/health`` and ``/ready``, and the lifespan that opens and closes the database.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from cross_web import HTTPException
from graphql import GraphQLError, OperationType, get_operation_ast, parse
from sqlalchemy import MetaData
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.dataloader import DataLoader
from strawberry.extensions import ParserCache, SchemaExtension, ValidationCache
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from .auth import ANONYMOUS, Viewer, viewer_from_authorization
from .db import Database
from .deadline import DeadlineMiddleware
from .errors import DomainError, code_errors
from .fastpath.graphql import graphql_endpoint
from .fastpath.http import HttpClient
from .http_limits import HeaderLimitMiddleware
from .logging import configure_logging
from .migrations import Migrations, ensure_schema, migration_status
from .observability import Observability, ObservabilityMiddleware, current_request_id
from .overload import AdaptiveLimiter, Admission, LimiterOptions, OverloadMiddleware, limiter_metrics
from .sessions import SessionGuard, remote_session_lookup
from .settings import ServiceSettings
from .shutdown import CloseWhenDrainingMiddleware, draining
from .tracing import configure_tracing
from .trust import RouterVerifier, parse_keyring, viewer_from_claims
from .trust.guard import RouterSignatureGuard, claims_in

if TYPE_CHECKING:
    import uvicorn

__all__ = [
    "ServiceContext",
    "CodedErrors",
    "SUBGRAPH_EXTENSIONS",
    "SchemaReadiness",
    "create_service_app",
    "load_settings",
    "print_sdl",
    "serve",
    "service_lifespan",
    "service_main",
]

logger = logging.getLogger("setrum.service")


@dataclass
class ServiceContext:
    """What every resolver gets as ``info.context``."""

    request: HTTPConnection  # the Request, or the router's WebSocket for a subscription
    db: Database
    settings: ServiceSettings
    request_id: str
    state: Any = None  # service-specific shared objects (HTTP clients…)
    observability: Observability | None = None
    _viewer: Viewer | None = None
    _viewer_error: DomainError | None = None
    _loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)

    @property
    def viewer(self) -> Viewer:
        """The caller; a bad token raises here, so only fields that need a viewer fail."""
        if self._viewer_error is not None:
            raise self._viewer_error
        return self._viewer or ANONYMOUS

    def loader(self, name: str, load_fn: Callable[[list[Any]], Awaitable[list[Any]]]) -> DataLoader[Any, Any]:
        """A DataLoader living for this request only (so batches never mix viewers)."""
        found = self._loaders.get(name)
        if found is None:
            found = self._loaders[name] = DataLoader(load_fn=load_fn)
        return found


class CodedErrors(SchemaExtension):
    """Every error leaves with an ``extensions.code``; unexpected ones are masked.
    Also counts the operation (name, outcome) in the service's metrics."""

    def on_operation(self) -> Any:
        started = time.perf_counter()
        yield
        result = self.execution_context.result
        context = self.execution_context.context
        if result is not None and result.errors:
            request_id = getattr(context, "request_id", None)
            result.errors = code_errors(list(result.errors), request_id)
        observability = getattr(context, "observability", None)
        if observability is not None:
            outcome = "error" if result is None or result.errors else "ok"
            observability.record_operation(
                self.execution_context.operation_name, outcome, time.perf_counter() - started
            )


# Parsing and validating the same operation text again on every request was the largest single
# CPU cost of a subgraph (master spent a third of its time validating the quote query). Both steps
# depend only on the query text and the schema, so an LRU per process is exact; the bound keeps
# hostile unique texts from growing memory. Parse errors are raised, so they are never cached.
_CACHED_DOCUMENTS = 512

SUBGRAPH_EXTENSIONS: tuple[Any, ...] = (
    CodedErrors,
    lambda: ParserCache(maxsize=_CACHED_DOCUMENTS),
    lambda: ValidationCache(maxsize=_CACHED_DOCUMENTS),
)
"""Every subgraph schema's ``extensions``: coded errors plus the parse/validation caches."""


_HTTP_CODES = {
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}


class _GraphQLApp(GraphQL[ServiceContext, None]):
    def __init__(
        self,
        schema: strawberry.Schema,
        db: Database,
        settings: ServiceSettings,
        state: Any,
        observability: Observability,
        sessions: SessionGuard | None,
    ) -> None:
        # Subscriptions reach a subgraph only from the router, over graphql-transport-ws (never the legacy
        # graphql-ws protocol), and a socket that does not say connection_init soon is closed.
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=True,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self._sessions = sessions
        self._db = db
        self._settings = settings
        self._state = state
        self._observability = observability

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, but a refused HTTP request (no query, bad JSON, wrong method or content
        type) is answered with a GraphQL error body instead of plain text (found by fuzzing)."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as error:
            code = _HTTP_CODES.get(error.status_code, "BAD_REQUEST")
            body = {"errors": [{"message": error.reason, "extensions": {"code": code}}]}
            response = JSONResponse(body, status_code=error.status_code)
        await response(scope, receive, send)

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """A subscription over plain HTTP is refused (400): strawberry would run it as a query and fail."""
        if _is_subscription(request_data.query, request_data.operation_name):
            raise HTTPException(400, "Subscriptions are served over graphql-transport-ws (a WebSocket), not HTTP")
        return await super().execute_single(request, request_adapter, sub_response, context, root_value, request_data)

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        """Errors raised before execution (variable coercion) bypass schema extensions: code them here."""
        if result.errors:
            request_id = current_request_id() or request.headers.get("x-request-id")
            result.errors = code_errors(list(result.errors), request_id)
        return await super().process_result(request, result)

    async def get_context(self, request: HTTPConnection, response: object) -> ServiceContext:
        context = ServiceContext(
            request=request,
            db=self._db,
            settings=self._settings,
            request_id=current_request_id() or request.headers.get("x-request-id") or uuid.uuid4().hex,
            state=self._state,
            observability=self._observability,
        )
        try:
            vouched, claims = claims_in(request.scope)
            if vouched:  # the router signed this request: its claims say who the caller is
                context._viewer = viewer_from_claims(claims)
            else:  # development without router keys: the client's own bearer token
                context._viewer = viewer_from_authorization(
                    request.headers,
                    jwt_secret=self._settings.jwt_secret.get_secret_value(),
                )
            if self._sessions is not None:
                await self._sessions.check(context._viewer)
        except DomainError as error:
            context._viewer = None
            context._viewer_error = error
        return context


def _is_subscription(query: object, operation_name: object) -> bool:
    """Whether the operation a request names is a subscription (False for anything malformed: strawberry
    explains that itself)."""
    if not isinstance(query, str) or not (operation_name is None or isinstance(operation_name, str)):
        return False
    return _names_subscription(query, operation_name)


@functools.lru_cache(maxsize=_CACHED_DOCUMENTS)
def _names_subscription(query: str, operation_name: str | None) -> bool:
    try:
        operation = get_operation_ast(parse(query), operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation == OperationType.SUBSCRIPTION


def create_service_app(
    *,
    name: str,
    schema: strawberry.Schema,
    settings: ServiceSettings,
    metadata: MetaData,
    seed: Callable[[Database], Awaitable[None]] | None = None,
    state: Any = None,
    on_startup: Callable[[Database], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    migrations: Path | None = None,
    sessions: SessionGuard | None = None,
) -> Starlette:
    """``migrations``: the service's alembic folder; without it the schema is only ever
    created with ``create_all`` (whatever ``schema_mode`` says). ``on_startup`` runs once the
    database is ready (and seeded); ``on_shutdown`` before it is closed. ``sessions``: how customer
    tokens are checked for revocation; without it, the users service is asked when
    ``SETRUM_USERS_URL`` is set (see :mod:`.sessions`)."""
    fast = settings.fastpath == "on"
    db = Database(settings.database_url, fastpath=fast)
    observability = Observability(name)
    db.count_round_trips(observability.db_statements.inc, observability.db_transactions.inc)
    configure_tracing(name)
    readiness = SchemaReadiness(db, Migrations(name, migrations) if migrations else None, settings.schema_mode)

    session_client: HttpClient | None = None
    if sessions is None and settings.users_url:
        session_client = HttpClient(timeout_s=5.0, max_connections=50)
        sessions = SessionGuard(
            remote_session_lookup(settings.users_url, settings.service_keyring(name), session_client),
            cache_seconds=settings.session_cache_s,
        )

    async def start() -> None:
        if seed is not None and settings.seed_demo_data:
            await seed(db)
        if on_startup is not None:  # background work (e.g. a worker) starts once the schema is there
            await on_startup(db)

    async def stop() -> None:
        if on_shutdown is not None:
            await on_shutdown()
        if session_client is not None:
            await session_client.aclose()

    lifespan = service_lifespan(name, settings, readiness, metadata, on_startup=start, on_shutdown=stop)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "UP", "service": name})

    graphql_app = _GraphQLApp(schema, db, settings, state, observability, sessions)
    endpoint = graphql_endpoint(
        schema,
        graphql_app,
        fast=fast,
        make_context=lambda request: graphql_app.get_context(request, None),
        record=observability.record_operation,
    )
    endpoint = _router_signed(endpoint, name, settings, observability)
    routes: list[BaseRoute] = [
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        # Subscriptions (graphql-transport-ws) for the router; strawberry's view serves the socket.
        WebSocketRoute("/graphql", endpoint),
        Route("/health", health),
        Route("/ready", readiness.endpoint),
        Route("/metrics", observability.metrics_endpoint),
        *extra_routes,
    ]
    middleware = [
        Middleware(CloseWhenDrainingMiddleware),
        Middleware(HeaderLimitMiddleware, limits=settings.header_limits),
        Middleware(ObservabilityMiddleware, observability=observability),
        Middleware(DeadlineMiddleware, default_s=settings.request_deadline_s),
    ]
    if settings.overload_max_concurrency > 0:
        options = LimiterOptions(
            initial_limit=min(64, settings.overload_max_concurrency),
            min_limit=min(2, settings.overload_max_concurrency),
            max_limit=settings.overload_max_concurrency,
            queue_timeout_s=settings.overload_queue_timeout_s,
            probe_interval_s=settings.overload_probe_interval_s,
            tolerance=settings.limiter_tolerance,
        )
        limiter = limiter_metrics(AdaptiveLimiter(options), observability.registry)
        middleware.append(Middleware(OverloadMiddleware, admission=Admission(limiter=limiter, report_queued=True)))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
    app.state.db = db
    app.state.observability = observability
    app.state.settings = settings
    app.state.service_state = state
    return app


def service_lifespan(
    name: str,
    settings: ServiceSettings,
    readiness: SchemaReadiness,
    metadata: MetaData,
    *,
    on_startup: Callable[[], Awaitable[None]] | None = None,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    log: logging.Logger = logger,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Every service's lifespan (subgraphs, the biller, the payment provider): the schema prepared as
    ``schema_mode`` says, the service's own start-up work, one "ready" line; at the end its own shut-down
    work, then the database closed."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await readiness.prepare(metadata)
        if on_startup is not None:
            await on_startup()
        db = readiness.db
        log.info("%s ready on %s:%s (%s)", name, settings.host, settings.port, db.url.get_backend_name())
        try:
            yield
        finally:
            if on_shutdown is not None:
                await on_shutdown()
            await db.dispose()

    return lifespan


def _router_signed(endpoint: Any, name: str, settings: ServiceSettings, observability: Observability) -> Any:
    """The GraphQL endpoint behind the router-signature guard when router keys are configured (always
    in production: a subgraph there answers only its routers). Without keys (development only) it
    answers anyone and reads the client's bearer token, as before routers signed."""
    keyring = parse_keyring(settings.router_public_keys, file=settings.router_public_keys_file)
    if not keyring:
        if settings.is_production:
            raise RuntimeError(
                f"{name}: SETRUM_ENV=production needs SETRUM_ROUTER_PUBLIC_KEYS (or _FILE): the routers' public keys"
            )
        logger.info("%s: no router keys configured, GraphQL answers unsigned requests (development)", name)
        return endpoint
    verifier = RouterVerifier(keyring, window_s=settings.router_signature_window_s)
    return RouterSignatureGuard(endpoint, verifier, observability.registry)


class SchemaReadiness:
    """Start-up schema handling (``schema_mode``) and the ``/ready`` probe: the database answers
    and its schema is at this code's latest migration. Shared by the subgraphs and the biller."""

    def __init__(self, db: Database, migrations: Migrations | None, mode: str) -> None:
        self.db = db
        self.migrations = migrations
        self.mode = mode if migrations is not None else "create"
        self._heads: set[str] | None = None

    async def prepare(self, metadata: MetaData) -> None:
        if self.migrations is None:
            await self.db.create_all(metadata)
            return
        await ensure_schema(self.db, self.migrations, self.mode, metadata=metadata)
        self._heads = self.migrations.heads()

    async def status(self) -> tuple[bool, dict[str, Any]]:
        if draining():  # SIGTERM received: finishing what we have, take no new work
            return False, {"status": "DRAINING"}
        if not await self.db.ping():
            return False, {"status": "NOT_READY", "database": False, "migrations": "unknown"}
        if self.migrations is None or self.mode == "create":
            migrations = "not used"
        else:
            try:
                migrations = await migration_status(self.db, self.migrations, self._heads)
            except Exception:  # a broken version table must not turn the probe into a 500
                logger.exception("reading the migration version failed")
                migrations = "unknown"
        ok = migrations in ("current", "not used")
        return ok, {"status": "READY" if ok else "NOT_READY", "database": True, "migrations": migrations}

    async def endpoint(self, _: Request) -> Response:
        ok, body = await self.status()
        return JSONResponse(body, status_code=200 if ok else 503)


def print_sdl(schema: strawberry.Schema) -> str:
    """The SDL a router sees from ``{ _service { sdl } }``."""
    result = schema.execute_sync("{ _service { sdl } }")
    if result.errors:
        raise RuntimeError(result.errors[0].message)
    assert result.data is not None
    return str(result.data["_service"]["sdl"]).rstrip() + "\n"


_S = TypeVar("_S", bound=ServiceSettings)


def service_main(
    *,
    name: str,
    schema: strawberry.Schema,
    settings_factory: Callable[[], _S],
    app_factory: Callable[[_S], Starlette],
    argv: Sequence[str] | None = None,
) -> int:
    """``python -m subgraphs.<name> [--print-sdl] [--host H] [--port P] [--seed]``"""
    parser = argparse.ArgumentParser(prog=f"python -m subgraphs.{name}")
    parser.add_argument("--print-sdl", action="store_true", help="print the subgraph SDL and exit")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--seed", action="store_true", help="load the demo data on start-up")
    args = parser.parse_args(argv)
    if args.print_sdl:
        print(print_sdl(schema), end="")
        return 0
    settings = settings_factory()
    return serve(
        name,
        settings,
        app_factory,
        host=args.host,
        port=args.port,
        overrides={"seed_demo_data": True} if args.seed else {},
    )


def load_settings(name: str, settings_factory: Callable[[], _S]) -> _S | None:
    """The service's settings, or None after printing each configuration error (messages only: the
    settings' input holds secrets) for a ``__main__`` to exit with 2."""
    from pydantic import ValidationError

    try:
        return settings_factory()
    except (ValidationError, ValueError) as exc:
        errors = exc.errors(include_input=False) if isinstance(exc, ValidationError) else [{"msg": str(exc)}]
        for error in errors:
            print(f"{name}: configuration error: {error['msg']}", file=sys.stderr)
        return None


def serve(
    name: str,
    settings: _S,
    app_factory: Callable[[_S], Starlette],
    *,
    host: str | None = None,
    port: int | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> int:
    """Run one service (a subgraph or the biller) under uvicorn until it is stopped.

    ``--host``/``--port`` from the command line and any other ``overrides`` win over the settings; logging is
    configured here (JSON in production); uvicorn itself only logs warnings and keeps its access log off.
    """
    updates: dict[str, Any] = dict(overrides or {})
    if host:
        updates["host"] = host
    if port:
        updates["port"] = port
    settings = settings.model_copy(update=updates)
    configure_logging(name, json=settings.json_logs)
    from .shutdown import GracefulServer  # uvicorn only where a server runs
    from .workers import run_workers

    if settings.workers > 1:
        return run_workers(
            functools.partial(_worker_config, name, settings, app_factory),
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            drain_s=settings.shutdown_drain_s,
            timeout_s=settings.shutdown_timeout_s,
        )
    GracefulServer(_uvicorn_config(settings, app_factory), drain_s=settings.shutdown_drain_s).run()
    return 0


def _uvicorn_config(settings: _S, app_factory: Callable[[_S], Starlette]) -> uvicorn.Config:
    import uvicorn

    from .http_server import http_protocol

    return uvicorn.Config(
        app_factory(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        loop="auto",
        http=http_protocol(),  # a response's head and body in one send
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout_s),
    )


def _worker_config(name: str, settings: _S, app_factory: Callable[[_S], Starlette]) -> uvicorn.Config:
    """Called in each worker process: its own logging and its own app."""
    configure_logging(name, json=settings.json_logs)
    return _uvicorn_config(settings, app_factory)
