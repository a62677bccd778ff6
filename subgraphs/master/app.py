"""Wiring of the master subgraph's ASGI app: schema, internal quote route, settings, database, demo seed."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from setrum_common.service_app import create_service_app

from .internal import internal_routes
from .models import Base
from .schema import schema
from .seed import seed_demo_data
from .settings import Settings, get_settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_service_app(
        name="master",
        schema=schema,
        settings=settings,
        metadata=Base.metadata,
        seed=seed_demo_data,
        migrations=Path(__file__).parent / "migrations",
        extra_routes=internal_routes(settings),
    )
