"""Static files of a browser app served by the router itself (``ROUTER_WEB_APP_DIR``).

Same origin as ``/graphql``, so the app needs no CORS and its CSP can say ``connect-src 'self'``.
The app lives under ``/app/``; a browser opening ``/`` is sent there (GraphiQL stays at
``/graphql``). Content-hashed files under ``assets/`` are cached for good, everything else
(``index.html``) is revalidated on each load so a new build reaches customers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from router.errors import graphql_error_body

from .encode import graphql_response
from .negotiation import accepts_html

__all__ = ["APP_PREFIX", "CONTENT_SECURITY_POLICY", "webapp_routes"]

APP_PREFIX = "/app"
# The app's own origin only: no inline script or style, no other host, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
_IMMUTABLE = "public, max-age=31536000, immutable"


class _AppFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        hashed = path.startswith("assets/")
        response.headers["cache-control"] = _IMMUTABLE if hashed else "no-cache"
        response.headers["content-security-policy"] = CONTENT_SECURITY_POLICY
        response.headers["x-content-type-options"] = "nosniff"
        response.headers["referrer-policy"] = "no-referrer"
        return response


def webapp_routes(directory: Path) -> list[BaseRoute]:
    """Routes serving ``directory`` (a built app with ``index.html``) at ``/app/``; put them first."""
    if not (directory / "index.html").is_file():
        raise ValueError(f"web app directory {directory} has no index.html (build it: python -m setrum.webapp build)")

    async def to_app(request: Request) -> Response:
        return RedirectResponse(f"{APP_PREFIX}/", status_code=308 if request.url.path == APP_PREFIX else 307)

    async def index(request: Request) -> Response:
        if accepts_html(request.headers.get("accept")):
            return await to_app(request)
        return graphql_response(
            graphql_error_body("nothing here; GraphQL is served at /graphql", "NOT_FOUND"), status=404
        )

    files: Any = _AppFiles(directory=directory, html=True)
    return [
        Route("/", index, methods=["GET", "HEAD"]),
        Route(APP_PREFIX, to_app, methods=["GET", "HEAD"]),
        Mount(APP_PREFIX, app=files, name="web-app"),
    ]
