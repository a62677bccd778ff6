"""The provider's HTTP API, on starlette.

- ``POST /v1/intents``, ``GET /v1/intents/{id}``, ``POST /v1/intents/{id}/cancel``: the merchant's API,
  every request signed with ``SETRUM_PAYMENTS_SECRET`` (:mod:`setrum_common.signing`), else 401.
- ``POST /v1/simulator/pay`` and the ``/pay`` page: stand in for the payer's bank (a VA transfer or a
  QRIS scan). Only when the simulator is enabled (development default; never by default in production).
- ``/health``, ``/ready``, ``/metrics``.

Errors are JSON ``{"code", "message"}`` with a 4xx status, never a stack trace.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.json_service import (
    BodyEndpoint,
    BodyHandler,
    JsonRefusal,
    json_error,
    json_object,
    json_response,
    json_service_app,
    signed_endpoint,
)
from setrum_common.signing import SIGNATURE_HEADER, NonceCache, SignatureError, verify_request

from .models import PaymentsBase
from .notifier import Notifier
from .service import Clock, IntentView, PaymentRefused, PaymentsService
from .settings import PaymentsSettings

__all__ = ["create_app"]

logger = logging.getLogger("setrum.payments")

_MAX_AMOUNT = 50_000_000
_DELIVERY_WAIT_S = 5.0


def _amount(value: Any) -> int:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 0 < int(text) <= _MAX_AMOUNT:
        raise PaymentRefused(400, "BAD_AMOUNT", f"amount must be whole rupiah, 1 to {_MAX_AMOUNT}")
    return int(text)


def _reference(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise PaymentRefused(400, "BAD_REQUEST", "merchantReference must be 1-64 characters")
    return value


class _Api:
    def __init__(self, service: PaymentsService, notifier: Notifier, settings: PaymentsSettings) -> None:
        self.service = service
        self.notifier = notifier
        self._secret = settings.payments_secret.get_secret_value()
        self._nonces = NonceCache()  # a signed merchant request is served once (a replay within the window: 401)

    def authenticate(self, request: Request, body: bytes) -> None:
        """The merchant's HMAC over the request, each signed request served once (else 401)."""
        try:
            verify_request(
                self._secret,
                request.headers.get(SIGNATURE_HEADER),
                request.method,
                request.scope["path"],
                body,
                nonces=self._nonces,
            )
        except SignatureError as exc:
            raise JsonRefusal(401, "UNAUTHENTICATED", str(exc)) from None

    def signed(self, handler: BodyHandler) -> BodyEndpoint:
        return signed_endpoint(self.authenticate, handler)

    async def create(self, request: Request, body: bytes) -> Response:
        data = json_object(body, code="BAD_REQUEST")
        bank = data.get("bankCode")
        view = await self.service.create_intent(
            _reference(data.get("merchantReference")),
            _amount(data.get("amount")),
            str(data.get("method")),
            bank if isinstance(bank, str) else None,
        )
        return json_response(view.to_json())

    async def read(self, request: Request, _: bytes) -> Response:
        view = await self.service.view(request.path_params["id"])
        return json_error(404, "UNKNOWN_INTENT", "no such intent") if view is None else json_response(view.to_json())

    async def cancel(self, request: Request, _: bytes) -> Response:
        return json_response((await self.service.cancel(request.path_params["id"])).to_json())

    async def pay(self, handle: str, amount: int | None) -> IntentView:
        view = await self.service.pay(handle, amount)
        self.notifier.wake()
        # Give the notifier a moment, so the payer (and a test) sees whether the merchant took it.
        for _ in range(3):
            await self.notifier.wait_round(_DELIVERY_WAIT_S / 3)
            fresh = await self.service.view(view.intent.id)
            if fresh is not None and fresh.payment is not None and fresh.payment.attempts:
                return fresh
        return view

    async def simulator_pay(self, request: Request) -> Response:
        try:
            data = json_object(await request.body(), code="BAD_REQUEST")
            handle = data.get("handle")
            if not isinstance(handle, str) or not 0 < len(handle) <= 512:
                raise PaymentRefused(400, "BAD_REQUEST", "handle must be an intent id, VA number or QRIS payload")
            amount = None if data.get("amount") is None else _amount(data.get("amount"))
            return json_response((await self.pay(handle, amount)).to_json())
        except JsonRefusal as refused:  # a bad body, or the provider's PaymentRefused
            return json_error(refused.status, refused.code, str(refused))

    async def page(self, request: Request) -> Response:
        message = ""
        if request.method == "POST":
            form = parse_qs((await request.body()).decode(errors="replace"))
            handle = (form.get("handle") or [""])[0]
            try:
                view = await self.pay(handle, None)
                state = view.payment.notify_state if view.payment else "?"
                message = (
                    f"<p role='status'>Paid Rp {view.intent.amount} ({html.escape(view.intent.id)}); "
                    f"merchant notification: {html.escape(state)}</p>"
                )
            except PaymentRefused as refused:
                message = f"<p role='alert'>{html.escape(refused.code)}: {html.escape(str(refused))}</p>"
        return HTMLResponse(_PAGE.format(message=message))


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Payment simulator</title></head>
<body><h1>Payment simulator</h1><p>Stands in for the payer's bank: pay a virtual account or QRIS code.</p>
{message}<form method="post"><label>VA number, QRIS payload or intent id
<input name="handle" required autofocus size="40"></label> <button type="submit">Pay</button></form></body></html>
"""


async def _disabled(_: Request) -> Response:
    return json_error(404, "SIMULATOR_DISABLED", "the payment simulator is not enabled here")


def create_app(
    settings: PaymentsSettings | None = None,
    *,
    clock: Clock | None = None,
    notify_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The provider as an ASGI app; ``notify_transport`` routes its notifications (tests: an ASGI app)."""
    settings = settings or PaymentsSettings()
    db = Database(settings.database_url, fastpath=settings.fastpath == "on")
    service = PaymentsService(db, va_ttl_s=settings.va_ttl_s, qris_ttl_s=settings.qris_ttl_s, clock=clock or utc_now)
    notifier = Notifier(
        service,
        url=settings.notify_url,
        secret=settings.payments_secret.get_secret_value(),
        interval_s=settings.notify_interval_s,
        timeout_s=settings.notify_timeout_s,
        backoff_max_s=settings.notify_backoff_max_s,
        transport=notify_transport,
    )
    api = _Api(service, notifier, settings)

    async def start() -> None:
        notifier.start()
        if settings.simulator_enabled:
            logger.warning("payment SIMULATOR enabled: anyone who reaches this port can pay intents")

    simulator = settings.simulator_enabled
    routes = [
        Route("/v1/intents", api.signed(api.create), methods=["POST"]),
        Route("/v1/intents/{id}", api.signed(api.read), methods=["GET"]),
        Route("/v1/intents/{id}/cancel", api.signed(api.cancel), methods=["POST"]),
        Route("/v1/simulator/pay", api.simulator_pay if simulator else _disabled, methods=["POST"]),
        Route("/pay", api.page if simulator else _disabled, methods=["GET", "POST"]),
    ]
    return json_service_app(
        "payments",
        settings,
        db,
        migrations=Path(__file__).parent / "migrations",
        metadata=PaymentsBase.metadata,
        routes=routes,
        title="the payment provider",
        on_startup=start,
        on_shutdown=notifier.stop,
        state={"service": service, "notifier": notifier},
    )
