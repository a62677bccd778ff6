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

from starlette.applications import Starlette

from router.http.routes import exception_handlers, http_routes
from router.layers.reload import GatewayLike, GatewayPool, SupergraphWatcher
from router.pipeline import build_endpoint
from router.settings import RouterSettings

if TYPE_CHECKING:
    from router.gateway import Gateway

__all__ = ["build_gateway", "create_app"]

logger = logging.getLogger("router.app")

ASGIApp = Any  # starlette.types.ASGIApp; kept loose so any ASGI callable fits


def build_gateway(
    supergraph_sdl: str, settings: RouterSettings, subgraph_apps: Mapping[str, ASGIApp] | None = None
) -> Gateway:
    """A Gateway for ``supergraph_sdl`` with the settings' URLs, timeouts and options (it owns
    and closes its subgraph client). Raises on a broken supergraph or an unknown URL override."""
    from router.gateway import Gateway, GatewayOptions  # noqa: PLC0415 - keep app import light
    from router.subgraph_client import HttpSubgraphClient  # noqa: PLC0415
    from router.supergraph import load_supergraph  # noqa: PLC0415

    subgraphs = settings.subgraphs
    urls = {name: sub.url for name, sub in load_supergraph(supergraph_sdl).subgraphs.items()}
    unknown = set(subgraphs.urls) - set(urls)
    if unknown:
        raise ValueError(f"URL overrides for unknown subgraphs: {', '.join(sorted(unknown))}")
    urls.update(subgraphs.urls)
    client = HttpSubgraphClient(urls, timeout=subgraphs.timeout_s, timeouts=subgraphs.timeouts, apps=subgraph_apps)
    extra = {k: v for k, v in settings.gateway.model_dump().items() if v is not None}
    options = GatewayOptions(
        subgraph_timeout_s=subgraphs.timeout_s,
        subgraph_timeouts=dict(subgraphs.timeouts),
        introspection=settings.introspection_enabled,
        **extra,
    )
    return Gateway(supergraph_sdl, client=client, options=options)


def create_app(
    settings: RouterSettings | None = None,
    *,
    gateway: Gateway | GatewayLike | None = None,
    subgraph_apps: Mapping[str, ASGIApp] | None = None,
) -> Starlette:
    settings = settings or RouterSettings()
    watcher: SupergraphWatcher | None = None
    if gateway is not None:
        pool = GatewayPool(gateway, owned=False)
    else:
        sdl = settings.supergraph.read_text(encoding="utf-8")
        pool = GatewayPool(build_gateway(sdl, settings, subgraph_apps))
        if settings.hot_reload.enabled:
            watcher = SupergraphWatcher(
                settings.supergraph,
                pool,
                lambda text: build_gateway(text, settings, subgraph_apps),
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

    app = Starlette(
        routes=http_routes(build_endpoint(settings, pool), graphiql=settings.graphiql_enabled),
        exception_handlers=exception_handlers,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.gateway_pool = pool
    app.state.supergraph_watcher = watcher
    return app
