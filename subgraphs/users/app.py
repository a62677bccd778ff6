"""The users subgraph as an ASGI app: wiring only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.applications import Starlette

from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.service_app import create_service_app
from setrum_common.sessions import SessionGuard, SessionState

from .internal import internal_routes
from .models import UsersBase
from .passwords import Passwords
from .schema import schema
from .schema.context import UsersState
from .seed import seed_demo_customers
from .service.sessions import local_session_lookup
from .settings import UsersSettings, get_settings
from .throttle import SigninThrottle
from .tokens import jwks_route

__all__ = ["create_app"]


def create_app(settings: UsersSettings | None = None, *, clock: Callable[[], datetime] = utc_now) -> Starlette:
    """``clock`` (aware UTC ``datetime`` factory) drives the sign-in throttling window; for tests."""
    settings = settings or get_settings()
    passwords = Passwords(
        time_cost=settings.password_time_cost,
        memory_kib=settings.password_memory_kib,
        parallelism=settings.password_parallelism,
        concurrency=settings.password_hash_concurrency,
        max_waiting=settings.password_queue_max_waiting,
        per_client=settings.password_queue_per_client,
        wait_s=settings.password_queue_wait_s,
    )

    async def seed(db: Database) -> None:
        await seed_demo_customers(db, passwords)

    # The session lookup needs the app's Database, which create_service_app makes: bind it late.
    bound: list[Database] = []

    async def lookup(customer_id: str) -> SessionState | None:
        return await local_session_lookup(bound[0])(customer_id)

    sessions = SessionGuard(lookup, cache_seconds=settings.session_cache_s)
    app = create_service_app(
        name="users",
        schema=schema,
        settings=settings,
        metadata=UsersBase.metadata,
        seed=seed,
        state=UsersState(
            settings=settings,
            passwords=passwords,
            throttle=SigninThrottle.from_settings(settings, clock),
            sessions=sessions,
        ),
        migrations=Path(__file__).parent / "migrations",
        sessions=sessions,
        extra_routes=[*internal_routes(settings, lookup), jwks_route(settings)],
    )
    bound.append(app.state.db)
    return app
