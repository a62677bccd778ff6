"""ASGI app factory of the transactions subgraph."""

from __future__ import annotations

from pathlib import Path

import httpx
from starlette.applications import Starlette

from setrum_common.breaker import CircuitBreaker
from setrum_common.db import Database
from setrum_common.service_app import create_service_app

from .clients import BillerClient, MasterClient, PaymentsClient
from .internal import internal_routes
from .metrics import TransactionMetrics
from .models import TransactionsBase
from .payment_notifications import payment_notification_routes
from .schema import schema
from .seed import seed
from .service.dependencies import Services
from .settings import SERVICE_NAME, TransactionsSettings
from .settlement import SettlementWorker

__all__ = ["create_app", "build_services"]


def build_services(
    settings: TransactionsSettings,
    *,
    master_transport: httpx.AsyncBaseTransport | None = None,
    biller_transport: httpx.AsyncBaseTransport | None = None,
    payments_transport: httpx.AsyncBaseTransport | None = None,
) -> Services:
    return Services(
        settings=settings,
        master=MasterClient(
            settings.master_url,
            settings.service_keyring(SERVICE_NAME),
            timeout_s=settings.master_timeout_s,
            transport=master_transport,
            deadline_margin_s=settings.deadline_margin_s,
        ),
        biller=BillerClient(
            settings.biller_url,
            settings.service_keyring(SERVICE_NAME),
            timeout_s=settings.biller_timeout_s,
            transport=biller_transport,
            deadline_margin_s=settings.deadline_margin_s,
            breaker=CircuitBreaker(
                failures=settings.biller_breaker_failures, cooldown_s=settings.biller_breaker_cooldown_s
            ),
        ),
        payments=PaymentsClient(
            settings.payments_url,
            settings.payments_secret.get_secret_value(),
            timeout_s=settings.payments_timeout_s,
            transport=payments_transport,
        ),
    )


def create_app(
    settings: TransactionsSettings | None = None,
    *,
    master_transport: httpx.AsyncBaseTransport | None = None,
    biller_transport: httpx.AsyncBaseTransport | None = None,
    payments_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The subgraph app; the transports let tests route master/biller/payments calls to fakes or ASGI apps."""
    settings = settings or TransactionsSettings()
    services = build_services(
        settings,
        master_transport=master_transport,
        biller_transport=biller_transport,
        payments_transport=payments_transport,
    )
    workers: list[SettlementWorker] = []

    async def start_worker(db: Database) -> None:
        worker = SettlementWorker(db, services)
        worker.start()
        workers.append(worker)

    async def stop(*_: object) -> None:
        for worker in workers:
            await worker.stop()
        await services.aclose()

    app = create_service_app(
        name=SERVICE_NAME,
        schema=schema,
        settings=settings,
        metadata=TransactionsBase.metadata,
        seed=seed,
        state=services,
        on_startup=start_worker,
        on_shutdown=stop,
        migrations=Path(__file__).parent / "migrations",
        extra_routes=[*internal_routes(settings, services), *payment_notification_routes(settings, services)],
    )
    # Business counters live on the app's own registry, served at /metrics beside the HTTP ones.
    services.metrics = TransactionMetrics(app.state.observability.registry)
    return app
