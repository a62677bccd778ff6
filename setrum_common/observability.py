"""Request id, server spans and Prometheus metrics for every service, as one ASGI middleware.

Each app gets its own metrics registry (several apps can live in one test process), served at
``/metrics``. The request id comes from ``X-Request-Id`` or is made here; it is echoed in the
response, put on every log line of the request and into error responses.
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid

from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .tracing import extract_context, span, tracer

__all__ = ["Observability", "ObservabilityMiddleware", "current_request_id", "RequestIdLogFilter"]

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("setrum_request_id", default=None)

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class Observability:
    """Metrics registry plus the middleware that feeds it."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.operations = Counter(
            "graphql_operations_total",
            "GraphQL operations by name and outcome",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.operation_latency = Histogram(
            "graphql_operation_duration_seconds",
            "GraphQL operation latency",
            ["operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Round trips to the service's database (Database.count_round_trips): statements per request
        # is how a batched resolver is told from an N+1 one.
        self.db_statements = Counter("db_statements_total", "Statements sent to the database", registry=self.registry)
        self.db_transactions = Counter(
            "db_transactions_total", "Transactions opened with their own BEGIN", registry=self.registry
        )
        self._tracer = tracer(f"setrum.{service}")

    def record_operation(self, name: str | None, outcome: str, seconds: float) -> None:
        label = name or "anonymous"
        self.operations.labels(label, outcome).inc()
        self.operation_latency.labels(label, outcome).observe(seconds)

    async def metrics_endpoint(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)

    def middleware(self, app: ASGIApp) -> ASGIApp:
        observability = self

        async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            request_id = headers.get("x-request-id") or uuid.uuid4().hex
            token = _request_id.set(request_id)
            ctx_token = otel_context.attach(extract_context(headers))
            route = scope["path"]
            method = scope["method"]
            status = 500
            started = time.perf_counter()

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
                await send(message)

            try:
                with span(
                    observability._tracer,
                    f"{method} {route}",
                    trace.SpanKind.SERVER,
                    {"http.request.method": method, "url.path": route, "setrum.request_id": request_id},
                ) as current:
                    await app(scope, receive, send_with_id)
                    if current is not None:
                        current.set_attribute("http.response.status_code", status)
            finally:
                route = getattr(scope.get("route"), "path", None) or ("unmatched" if status == 404 else route)
                if route != "/metrics":
                    observability.http_requests.labels(method, route, str(status)).inc()
                    observability.http_latency.labels(method, route).observe(time.perf_counter() - started)
                otel_context.detach(ctx_token)
                _request_id.reset(token)

        return asgi


class ObservabilityMiddleware:
    """Starlette ``Middleware(ObservabilityMiddleware, observability=...)`` form of the middleware."""

    def __init__(self, app: ASGIApp, observability: Observability) -> None:
        self._asgi = observability.middleware(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._asgi(scope, receive, send)
