"""The one place that fixes the order of the request pipeline.

    HTTP request
      -> encode          (outermost: turns the result, or an HttpRequestError, into HTTP;
                          an unexpected exception becomes a generic 500 with the request id)
      -> csrf            (400 CSRF_ERROR: a request a browser sends without preflight needs a header)
      -> authentication  (401 UNAUTHENTICATED: a bearer JWT that is not valid; claims on the request)
      -> body limit      (413; must read the body, so it sits in front of the decoder; large
                          bodies pass a gate of a few slots, else 503)
      -> decode          (406/405/415/400; GET/POST/batch -> GraphQLRequest)
      -> request id      (x-request-id in and out)
      -> persisted       (APQ by sha256Hash, trusted-documents manifest and safelist)
      -> telemetry       (server span from traceparent, request metrics, failure log line)
      -> rate limits     (429 RATE_LIMITED: rules by root field, per client IP or customer,
                          counted in the shared store)
      -> header rules    (client headers -> subgraph_headers)
      -> client ip       (the client IP header every subgraph gets)
      -> query plan      (only when ``query_plan.expose``: x-setrum-query-plan -> include_plan)
      -> execute         (gateway.execute on the current gateway of the pool, or, for
                          Accept: text/event-stream, a stream of gateway.subscribe's results; it runs the
                          request stages of :mod:`router.stages`: parse -> validate (with the
                          operation limits as validation rules) -> coerce -> plan -> execute
                          -> project)

Like Starlette's ``build_middleware_stack``: the chain is built once at startup, each layer
wraps the handler after it, and no stage knows about the others.
"""

from __future__ import annotations

from router.http.context import Handler, Layer
from router.http.decode import decode_layer
from router.http.encode import Endpoint, encode_endpoint
from router.http.subscriptions import SubscriptionSlots
from router.layers.authentication import EdgeAuthenticator, authentication_layer
from router.layers.body_limit import LargeBodyGate, body_limit_layer
from router.layers.csrf import csrf_layer
from router.layers.deadline import deadline_layer
from router.layers.dispatch import execute_handler
from router.layers.headers import header_rules_layer
from router.layers.persisted import PersistedDocuments, load_manifest, persisted_queries_layer
from router.layers.plan_header import query_plan_layer
from router.layers.rate_limit import RootFields, client_ip_layer, rate_limit_layer
from router.layers.reload import GatewayPool
from router.layers.request_id import request_id_layer
from router.layers.telemetry import RouterMetrics, telemetry_layer
from router.settings import RouterSettings
from router.shared_store import MemoryStore, SharedStore

__all__ = ["build_endpoint", "build_handler", "build_layers", "chain"]


def build_layers(
    settings: RouterSettings,
    metrics: RouterMetrics | None = None,
    *,
    pool: GatewayPool | None = None,
    store: SharedStore | None = None,
) -> list[Layer]:
    """The layers in request order (outermost first). ``store``: what replicas share (rate-limit
    counters, APQ documents); this process only when None."""
    store = store if store is not None else MemoryStore()
    layers: list[Layer] = []
    if settings.csrf.enabled:
        layers.append(csrf_layer(settings.csrf.required_headers))
    if settings.authentication.enabled:
        layers.append(authentication_layer(EdgeAuthenticator(settings.authentication)))
    limits = settings.limits
    gate = (
        LargeBodyGate(limits.large_body_bytes, limits.max_large_bodies, limits.large_body_wait_s)
        if limits.large_body_bytes is not None
        else None
    )
    if limits.max_body_bytes is not None or gate is not None:
        layers.append(body_limit_layer(limits.max_body_bytes, gate))
    layers.append(decode_layer(batching=settings.batching.enabled, max_batch_size=settings.batching.max_size))
    layers.append(request_id_layer())
    layers.append(_persisted_layer(settings, store))
    layers.append(deadline_layer(settings.deadline.default_s))
    if metrics is not None:
        layers.append(telemetry_layer(metrics))
    rate_limits = settings.rate_limits
    if rate_limits.enabled and rate_limits.rules and pool is not None:
        layers.append(rate_limit_layer(rate_limits, store, _root_fields_of(pool)))
    layers.append(header_rules_layer(settings.headers))
    if rate_limits.client_ip_header is not None:
        layers.append(client_ip_layer(rate_limits.client_ip_header, rate_limits.trusted_proxy_hops))
    if settings.query_plan.expose:
        layers.append(query_plan_layer())
    return layers


def _persisted_layer(settings: RouterSettings, store: SharedStore) -> Layer:
    """Built once per app: the manifest is read at start-up (a broken one stops the router)."""
    config = settings.persisted_queries
    manifest = load_manifest(config.manifest) if config.manifest is not None else None
    documents = PersistedDocuments(
        manifest, cache_size=config.cache_size, shared=store, shared_ttl_s=settings.shared_store.apq_ttl_s
    )
    return persisted_queries_layer(documents, apq=config.apq, safelist=config.safelist)


def _root_fields_of(pool: GatewayPool) -> RootFields:
    """The current gateway's answer (from its cache of validated operations); a gateway without
    the method (a test double) selects nothing a rule could name."""

    def root_fields(query: str, operation_name: str | None) -> frozenset[str] | None:
        find = getattr(pool.current, "root_fields", None)
        return find(query, operation_name) if callable(find) else None

    return root_fields


def chain(layers: list[Layer], core: Handler) -> Handler:
    handler = core
    for layer in reversed(layers):
        handler = layer(handler)
    return handler


def build_handler(
    settings: RouterSettings,
    pool: GatewayPool,
    metrics: RouterMetrics | None = None,
    store: SharedStore | None = None,
    slots: SubscriptionSlots | None = None,
) -> Handler:
    """``slots``: the process's subscription slots (GraphQL over SSE is served when given)."""
    core = execute_handler(pool, slots=slots, keepalive_s=settings.subscriptions.keepalive_s)
    return chain(build_layers(settings, metrics, pool=pool, store=store), core)


def build_endpoint(
    settings: RouterSettings,
    pool: GatewayPool,
    metrics: RouterMetrics | None = None,
    store: SharedStore | None = None,
    slots: SubscriptionSlots | None = None,
) -> Endpoint:
    """The ``/graphql`` endpoint: the encode stage around the whole chain."""
    return encode_endpoint(build_handler(settings, pool, metrics, store, slots))
