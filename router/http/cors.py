"""CORS from the ``cors`` settings: which browser origins may call the router, with or without
credentials. Starlette's middleware answers preflights (``OPTIONS`` with
``Access-Control-Request-Method``) before routing and adds the headers to real responses; with no
origins configured the router stays same-origin only (the web app at ``/app/`` and GraphiQL)."""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from router.settings import CorsSettings

__all__ = ["cors_middleware"]


def cors_middleware(cors: CorsSettings) -> list[Middleware]:
    if not cors.origins and cors.match_origins is None:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=cors.origins,
            allow_origin_regex=cors.match_origins,
            allow_credentials=cors.allow_credentials,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=cors.allow_headers,
            expose_headers=cors.expose_headers,
            max_age=cors.max_age_s,
        )
    ]
