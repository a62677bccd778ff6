"""GraphiQL served from the router itself, with vendored assets (see ``static/README.md``).

No CDN: the HTML page loads React, ReactDOM and GraphiQL from ``/graphiql/static/`` and points
its fetcher at the router's GraphQL endpoint, so the IDE (and its docs explorer, which introspects
through the router) works on a machine with no internet access.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template

from starlette.responses import HTMLResponse

__all__ = ["CONTENT_SECURITY_POLICY", "STATIC_DIR", "STATIC_PREFIX", "graphiql_response", "render_graphiql"]

STATIC_DIR = Path(__file__).with_name("static")
STATIC_PREFIX = "/graphiql/static"
_PAGE = Template(Path(__file__).with_name("page.html").read_text(encoding="utf-8"))

# Everything from our own origin; GraphiQL's CSS inlines fonts/icons as data: URLs and sets
# inline styles. Browsers then refuse any request to another host even if a bundle tried one.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


def render_graphiql(
    *, endpoint: str = "/graphql", static_prefix: str = STATIC_PREFIX, title: str = "Setrum GraphiQL"
) -> str:
    return _PAGE.substitute(
        endpoint=html.escape(endpoint, quote=True),
        static=html.escape(static_prefix, quote=True),
        title=html.escape(title),
    )


def graphiql_response(page: str) -> HTMLResponse:
    return HTMLResponse(page, headers={"content-security-policy": CONTENT_SECURITY_POLICY, "cache-control": "no-store"})
