"""Telemetry: Prometheus metrics, OpenTelemetry spans and W3C trace propagation.

Two hook points, as in Apollo Router's telemetry plugin:

* :func:`telemetry_layer` wraps the GraphQL pipeline (after decoding, so the operation name
  is known): one SERVER span per request, continuing the client's ``traceparent``; request
  count and latency by operation and outcome; a log line with the request id for failures.
* :class:`InstrumentedSubgraphClient` wraps the subgraph client: one CLIENT span and one
  latency sample per subgraph fetch, fetch errors counted per subgraph, and the current trace
  context injected as ``traceparent`` so subgraphs (and the biller behind them) join the trace.

Plan- and document-cache hits and misses are read from the live gateway at scrape time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.subgraph_client import SubgraphClient, SubgraphFetchError
from setrum_common.closing import aclose as close_resource
from setrum_common.tracing import span

__all__ = ["InstrumentedSubgraphClient", "RouterMetrics", "telemetry_layer"]

logger = logging.getLogger("router.requests")
_tracer = trace.get_tracer("setrum.router")

M = TypeVar("M", Counter, Histogram)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _CacheCollector(Collector):
    def __init__(self, stats: Callable[[], Mapping[str, int]]) -> None:
        self._stats = stats

    def collect(self) -> Iterator[CounterMetricFamily]:
        stats = self._stats()
        for cache in ("plan", "document"):
            family = CounterMetricFamily(
                f"router_{cache}_cache_lookups", f"{cache} cache lookups by result", labels=["result"]
            )
            family.add_metric(["hit"], stats.get(f"{cache}_cache_hits", 0))
            family.add_metric(["miss"], stats.get(f"{cache}_cache_misses", 0))
            yield family


class _Children(Generic[M]):
    """``metric.labels(*values)``, remembered (up to a bound: operation names come from clients)."""

    __slots__ = ("_metric", "_children")

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._metric.labels(*values)
            if len(self._children) < 1024:
                self._children[values] = child
        return child


class RouterMetrics:
    """The router's metrics registry (one per app, shared by every gateway a reload builds)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "router_requests_total",
            "GraphQL requests by operation and outcome",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.request_latency = Histogram(
            "router_request_duration_seconds",
            "GraphQL request latency (decode to response body)",
            ["operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fetch_latency = Histogram(
            "router_subgraph_fetch_duration_seconds",
            "Subgraph fetch latency",
            ["subgraph"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.fetch_errors = Counter(
            "router_subgraph_fetch_errors_total",
            "Subgraph fetches that failed (transport, status, timeout)",
            ["subgraph"],
            registry=self.registry,
        )
        self.fetch_retries = Counter(
            "router_subgraph_fetch_retries_total",
            "Subgraph fetches sent again after the subgraph refused them as overloaded",
            ["subgraph"],
            registry=self.registry,
        )

        # Labelled children looked up once per label values, not on every request and fetch.
        self.requests_by = _Children(self.requests)
        self.request_latency_by = _Children(self.request_latency)
        self.fetch_latency_by = _Children(self.fetch_latency)

    def watch_caches(self, cache_stats: Callable[[], Mapping[str, int]]) -> None:
        """Report plan/document cache hits and misses read from ``cache_stats`` at scrape time."""
        self.registry.register(_CacheCollector(cache_stats))

    def watch_subscriptions(self, opened: Callable[[], int], subgraph_opened: Callable[[], int]) -> None:
        """Subscriptions open at the edge (SSE and WebSocket) and to subgraphs, read at scrape time."""
        edge = Gauge("setrum_router_subscriptions_open", "Client subscriptions open now", registry=self.registry)
        edge.set_function(lambda: float(opened()))
        upstream = Gauge(
            "setrum_router_subgraph_subscriptions_open",
            "Subscriptions the router holds open on subgraphs now (one WebSocket each)",
            registry=self.registry,
        )
        upstream.set_function(lambda: float(subgraph_opened()))


class InstrumentedSubgraphClient:
    """A :class:`SubgraphClient` that measures and traces every fetch of the one it wraps."""

    def __init__(self, inner: SubgraphClient, metrics: RouterMetrics) -> None:
        self.inner = inner
        self._metrics = metrics

    async def fetch(self, subgraph: str, body: dict[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        started = time.perf_counter()
        with span(_tracer, f"subgraph {subgraph}", trace.SpanKind.CLIENT, {"graphql.subgraph": subgraph}) as current:
            try:
                return await self.inner.fetch(subgraph, body, _with_trace_context(headers))
            except SubgraphFetchError as error:
                self._metrics.fetch_errors.labels(subgraph).inc()
                if current is not None:
                    current.set_status(trace.Status(trace.StatusCode.ERROR, str(error)))
                raise
            finally:
                self._metrics.fetch_latency_by(subgraph).observe(time.perf_counter() - started)

    async def aclose(self) -> None:
        await close_resource(self.inner)


def _with_trace_context(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` plus ``traceparent``/``tracestate`` of the current context, if there is one."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return {**headers, **carrier} if carrier else headers


def _outcome(response: RouterResponse) -> str:
    if response.outcome != "ok":
        return response.outcome
    body = response.body
    if isinstance(body, dict) and body.get("errors"):
        return "partial" if body.get("data") else "error"
    return "ok"


def telemetry_layer(metrics: RouterMetrics) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            operation = (request.graphql.operation_name if request.graphql else None) or "anonymous"
            token = otel_context.attach(propagate.extract(request.http.headers))
            started = time.perf_counter()
            try:
                with span(
                    _tracer,
                    f"graphql {operation}",
                    trace.SpanKind.SERVER,
                    {"graphql.operation.name": operation, "setrum.request_id": request.request_id or ""},
                ):
                    response = await inner(request)
            finally:
                otel_context.detach(token)
            outcome = _outcome(response)
            metrics.requests_by(operation, outcome).inc()
            metrics.request_latency_by(operation, outcome).observe(time.perf_counter() - started)
            if outcome != "ok" and isinstance(response.body, dict):
                # The request id in the body lets a client quote it to support, who find it in the logs.
                body = response.body
                response.body = {
                    **body,
                    "extensions": {**(body.get("extensions") or {}), "requestId": request.request_id},
                }
                codes = [(e.get("extensions") or {}).get("code") for e in response.body.get("errors") or ()]
                logger.info(
                    "operation %s finished with %s %s",
                    operation,
                    outcome,
                    codes,
                    extra={"request_id": request.request_id, "operation": operation, "outcome": outcome},
                )
            return response

        return handle

    return wrap
