"""Wiring of the master subgraph's ASGI app: schema, internal quote route, settings, database, demo seed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette

from setrum_common.service_app import create_service_app

from .internal import internal_routes
from .models import MasterBase
from .sales_state import SalesStateClient
from .schema import schema
from .seed import seed_demo_data
from .settings import MasterSettings, get_settings

__all__ = ["create_app"]


@dataclass
class MasterState:
    """Shared objects of the master process (``info.context.state``)."""

    sales: SalesStateClient


def create_app(
    settings: MasterSettings | None = None, *, transactions_transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """``transactions_transport`` replaces the network towards transactions (tests)."""
    settings = settings or get_settings()
    sales = SalesStateClient(
        settings.transactions_url,
        settings.service_keyring("master"),
        timeout_s=settings.transactions_timeout_s,
        transport=transactions_transport,
    )
    return create_service_app(
        name="master",
        schema=schema,
        settings=settings,
        metadata=MasterBase.metadata,
        seed=seed_demo_data,
        migrations=Path(__file__).parent / "migrations",
        extra_routes=internal_routes(settings),
        state=MasterState(sales),
        on_shutdown=sales.aclose,
    )
