"""Build the router's ASGI app from settings: wiring only.

``create_app(settings)`` loads the supergraph file and builds a Gateway; ``gateway=`` injects a
ready one (tests, embedding; hot reload is then off because the app cannot rebuild it), and
``subgraph_apps=`` runs those subgraphs in-process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from router.http.cors import cors_middleware
from router.http.graphql_ws import GraphQLWebSocket
from router.http.routes import GRAPHQL_PATH, exception_handlers, http_routes
from router.http.subscriptions import SubscriptionSlots
from router.http.webapp import webapp_routes
from router.layers.authentication import EdgeAuthenticator
from router.layers.overload import overload_admission, overload_middleware
from router.layers.reload import GatewayLike, GatewayPool, SupergraphWatcher
from router.layers.telemetry import InstrumentedSubgraphClient, RouterMetrics
from router.pipeline import build_endpoint
from router.settings import HTTP_LIMITS, LimitsSettings, RouterSettings
from router.shared_store import open_store
from setrum_common.http_limits import HeaderLimitMiddleware
from setrum_common.shutdown import CloseWhenDrainingMiddleware, draining
from setrum_common.tracing import configure_tracing
from setrum_common.trust import RouterSigner, load_private_key

if TYPE_CHECKING:
    import uvicorn

    from router.gateway import Gateway
    from router.stages import OperationLimits

__all__ = ["build_gateway", "create_app", "operation_limits", "router_signer", "worker_config"]


def _cache_stats(gateway: Any) -> dict[str, int]:
    names = ("plan_cache_hits", "plan_cache_misses", "document_cache_hits", "document_cache_misses")
    return {name: int(getattr(gateway, name, 0) or 0) for name in names}


logger = logging.getLogger("router.app")

ASGIApp = Any  # starlette.types.ASGIApp; kept loose so any ASGI callable fits


def operation_limits(limits: LimitsSettings) -> OperationLimits:
    """The gateway's operation limits from the ``limits`` settings (all but the body limits,
    which the HTTP layer enforces)."""
    from router.stages import OperationLimits

    return OperationLimits(**limits.model_dump(exclude=set(HTTP_LIMITS)))


def build_gateway(
    supergraph_sdl: str,
    settings: RouterSettings,
    subgraph_apps: Mapping[str, ASGIApp] | None = None,
    metrics: RouterMetrics | None = None,
) -> Gateway:
    """A Gateway for ``supergraph_sdl`` with the settings' URLs, timeouts and options (it owns
    and closes its subgraph client). Raises on a broken supergraph or an unknown URL override."""
    from router.gateway import Gateway, GatewayOptions
    from router.stages import AuthorizationOptions, PolicyTable
    from router.subgraph_client import HttpSubgraphClient, SubgraphSubscriber
    from router.supergraph import load_supergraph

    subgraphs = settings.subgraphs
    urls = {name: sub.url for name, sub in load_supergraph(supergraph_sdl).subgraphs.items()}
    unknown = set(subgraphs.urls) - set(urls)
    if unknown:
        raise ValueError(f"URL overrides for unknown subgraphs: {', '.join(sorted(unknown))}")
    urls.update(subgraphs.urls)
    signer = router_signer(settings)
    client: Any = HttpSubgraphClient(
        urls,
        timeout=subgraphs.timeout_s,
        timeouts=subgraphs.timeouts,
        max_response_bytes=subgraphs.max_response_bytes,
        apps=subgraph_apps,
        fastpath=settings.fastpath == "on",
        deadline_margin_s=settings.deadline.margin_s,
        max_in_flight=subgraphs.max_in_flight,
        signer=signer,
        deduplicate_queries=settings.traffic_shaping.deduplicate_subgraph_queries,
        retry=settings.traffic_shaping.retry_policy(),
        on_retry=(lambda subgraph: metrics.fetch_retries.labels(subgraph).inc()) if metrics is not None else None,
    )
    if metrics is not None:
        client = InstrumentedSubgraphClient(client, metrics)
    extra = {k: v for k, v in settings.gateway.model_dump().items() if v is not None}
    options = GatewayOptions(
        limits=operation_limits(settings.limits),
        subgraph_timeout_s=subgraphs.timeout_s,
        subgraph_timeouts=dict(subgraphs.timeouts),
        introspection=settings.introspection_enabled,
        authorization=AuthorizationOptions(
            enabled=settings.authorization.enabled,
            reject_unauthorized=settings.authorization.reject_unauthorized,
            dry_run=settings.authorization.dry_run,
            policies=PolicyTable(settings.authorization.policies),
        ),
        **extra,
    )
    subscriber = (
        SubgraphSubscriber(
            urls, signer=signer, connect_timeout_s=subgraphs.timeout_s, max_message_bytes=subgraphs.max_response_bytes
        )
        if settings.subscriptions.enabled
        else None
    )
    return Gateway(supergraph_sdl, client=client, options=options, subscriber=subscriber)


def router_signer(settings: RouterSettings) -> RouterSigner | None:
    """The signer of every subgraph request, when ``signing`` is configured (key loaded once)."""
    signing = settings.signing
    if not signing.enabled:
        return None
    text = signing.key.get_secret_value() if signing.key is not None else None
    return RouterSigner(load_private_key(text, file=signing.key_file), signing.key_id)


def create_app(
    settings: RouterSettings | None = None,
    *,
    gateway: Gateway | GatewayLike | None = None,
    subgraph_apps: Mapping[str, ASGIApp] | None = None,
) -> Starlette:
    settings = settings or RouterSettings()
    configure_tracing("router")
    watcher: SupergraphWatcher | None = None
    metrics = RouterMetrics()
    store = open_store(settings.shared_store.url)
    if gateway is not None:
        pool = GatewayPool(gateway, owned=False)
    else:
        sdl = settings.supergraph.read_text(encoding="utf-8")
        pool = GatewayPool(build_gateway(sdl, settings, subgraph_apps, metrics))
        if settings.hot_reload.enabled:
            watcher = SupergraphWatcher(
                settings.supergraph,
                pool,
                lambda text: build_gateway(text, settings, subgraph_apps, metrics),
                interval_s=settings.hot_reload.poll_interval_s,
            )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(watcher.run(), name="supergraph-watcher") if watcher else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await pool.aclose()
            await store.aclose()

    subscriptions = settings.subscriptions
    slots = SubscriptionSlots(subscriptions.max_opened) if subscriptions.enabled else None
    metrics.watch_caches(lambda: _cache_stats(pool.current))
    metrics.watch_subscriptions(
        lambda: slots.opened if slots is not None else 0,
        lambda: int(getattr(getattr(pool.current, "subscriber", None), "opened", 0) or 0),
    )

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def ready(_: Request) -> Response:
        """Readiness: a supergraph is loaded and a gateway serves it."""
        current = pool.current
        loaded = current is not None
        if draining():  # SIGTERM received: finishing what it has, taking no new work
            return JSONResponse({"status": "DRAINING", "supergraphLoaded": loaded}, status_code=503)
        body = {"status": "READY" if loaded else "NOT_READY", "supergraphLoaded": loaded}
        if watcher is not None:
            body["supergraph"] = str(settings.supergraph)
        return JSONResponse(body, status_code=200 if loaded else 503)

    routes = http_routes(build_endpoint(settings, pool, metrics, store, slots), graphiql=settings.graphiql_enabled)
    if slots is not None:
        authenticator = EdgeAuthenticator(settings.authentication) if settings.authentication.enabled else None
        socket = GraphQLWebSocket(
            pool, subscriptions, slots, authenticator=authenticator, header_rules=settings.headers
        )
        routes.append(WebSocketRoute(GRAPHQL_PATH, socket))
    if settings.web_app_dir is not None:
        routes = webapp_routes(settings.web_app_dir) + routes
    routes += [Route("/metrics", metrics_endpoint, methods=["GET"]), Route("/ready", ready, methods=["GET"])]
    admission = overload_admission(settings, metrics)
    app = Starlette(
        routes=routes,
        exception_handlers=exception_handlers,
        lifespan=lifespan,
        middleware=[
            Middleware(CloseWhenDrainingMiddleware),
            Middleware(HeaderLimitMiddleware, limits=settings.header_limits),
            *cors_middleware(settings.cors),
            *overload_middleware(admission),
        ],
    )
    # The HTTP server's door refuses with it before the app (setrum_common/http_server.py).
    app.state.admission = admission if settings.overload.door else None
    app.state.metrics = metrics
    app.state.settings = settings
    app.state.gateway_pool = pool
    app.state.shared_store = store
    app.state.supergraph_watcher = watcher
    return app


def worker_config(options: dict[str, Any], log: dict[str, Any]) -> uvicorn.Config:
    """A router worker process's server (``ROUTER_WORKERS`` > 1; here, not in ``__main__``, so that the
    worker can unpickle it): its own logging, the app from the environment (``router.__main__``)."""
    import uvicorn

    from setrum_common.logging import configure_logging

    configure_logging("router", **log)
    return uvicorn.Config("router.__main__:_app_from_env", **options)
