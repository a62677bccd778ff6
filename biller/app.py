"""The biller's HTTP API (docs/domain.md §The biller), on starlette.

Every route but ``/health``, ``/ready`` and ``/metrics`` needs a service token of transactions, signed
with its own key over the method, path and body, with a nonce served once
(:mod:`setrum_common.trust`); anything else is answered 401 (403 for another service) before the
body is looked at.
Errors are JSON ``{"code", "message"}`` with a 4xx status, never a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.clock import JAKARTA, utc_now
from setrum_common.db import Database
from setrum_common.json_service import (
    BodyEndpoint,
    JsonRefusal,
    json_error,
    json_object,
    json_response,
    json_service_app,
    signed_endpoint,
)
from setrum_common.trust.internal_routes import InternalGuard
from setrum_common.trust.service_tokens import ServiceAuthError

from .energy import EnergyMismatch, SaleFigures
from .faults import FAULT_MODES, Fault
from .models import BillerBase
from .seed import seed_meter_register
from .service import (
    BillerService,
    Clock,
    DuplicateReference,
    KeyChangeNeeded,
    UnknownMeter,
)
from .settings import BillerSettings

__all__ = ["BILLER_CALLERS", "create_app"]

BILLER_CALLERS = frozenset({"transactions"})  # the one service that sells

logger = logging.getLogger("setrum.biller")

Handler = Callable[[Request, Any], Awaitable[Response]]


class InvalidRequest(ValueError):
    pass


def _string(data: dict[str, Any], name: str, *, max_length: int = 64) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidRequest(f"{name} must be a non-empty string of at most {max_length} characters")
    return value


def _meter_number(data: dict[str, Any]) -> str:
    value = _string(data, "meterNumber", max_length=32)
    if not value.isdigit():
        raise InvalidRequest("meterNumber must be digits")
    return value


_MAX_LISTED = 20_000  # purchases in one page of a day's sales


def _int(data: dict[str, Any], name: str, *, required: bool = True, default: int | None = None) -> int | None:
    value = data.get(name, default)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRequest(f"{name} must be an integer")
    return value


def _amount(data: dict[str, Any], name: str = "amount", *, required: bool = True) -> Decimal:
    raw = data.get(name, None if required else "0")
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidRequest(f"{name} must be a decimal string")
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidRequest(f"{name} must be a decimal string") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidRequest(f"{name} must be a non-negative decimal")
    return amount


def _sale_figures(data: dict[str, Any]) -> SaleFigures:
    """The nominal and the receipt's deductions (absent deductions are zero)."""
    return SaleFigures(
        amount=_amount(data),
        ppj=_amount(data, "ppj", required=False),
        ppn=_amount(data, "ppn", required=False),
        stamp_duty=_amount(data, "stampDuty", required=False),
        instalment=_amount(data, "instalment", required=False),
    )


class _Endpoints:
    """The signed routes' handlers: each takes the request and its JSON body (None for GET/DELETE)."""

    def __init__(self, service: BillerService, settings: BillerSettings) -> None:
        self.service = service
        self.settings = settings
        self._guard = InternalGuard(settings.service_keyring("biller"))  # a token is served once

    def authenticate(self, request: Request, body: bytes) -> None:
        """A service token of transactions over this request, served once (else 401, 403 for another service)."""
        try:
            self._guard.caller(request, body, BILLER_CALLERS)
        except ServiceAuthError as exc:
            raise JsonRefusal(
                exc.status, "FORBIDDEN" if exc.status == 403 else "UNAUTHENTICATED", exc.message
            ) from None

    def signed(self, handler: Handler) -> BodyEndpoint:
        async def with_json(request: Request, body: bytes) -> Response:
            try:
                data = json_object(body, code="BAD_USER_INPUT") if request.method in ("POST", "PUT") else None
                return await handler(request, data)
            except ValueError as exc:  # InvalidRequest, or a value the service refused
                return json_error(400, "BAD_USER_INPUT", str(exc))

        return signed_endpoint(self.authenticate, with_json)

    async def purchase(self, request: Request, data: dict[str, Any]) -> Response:
        reference = _string(data, "reference")
        meter_number = _meter_number(data)
        kwh_tenths = _int(data, "kwhTenths")
        assert kwh_tenths is not None
        figures = _sale_figures(data)
        try:
            view = await self.service.purchase(reference, meter_number, kwh_tenths, figures)
        except EnergyMismatch as exc:
            return json_error(422, exc.code, str(exc))
        except DuplicateReference:
            return json_error(409, "DUPLICATE_REFERENCE", "the reference was used for another meter or amount")
        return json_response(view.to_json())

    async def purchase_status(self, request: Request, _: None) -> Response:
        view = await self.service.status(request.path_params["reference"])
        if view is None:
            return json_error(404, "NOT_FOUND", "no purchase with this reference")
        return json_response(view.to_json())

    async def management(self, request: Request, data: dict[str, Any]) -> Response:
        meter_number = _meter_number(data)
        kind = _string(data, "kind", max_length=32)
        value = _int(data, "value", required=False)
        reference = _string(data, "reference")
        try:
            issued = await self.service.management_token(meter_number, kind, value, reference)
        except DuplicateReference:
            return json_error(409, "DUPLICATE_REFERENCE", "the reference was used for another management token")
        except UnknownMeter:
            return json_error(404, "UNKNOWN_METER", "the meter is not registered")
        except KeyChangeNeeded as exc:
            return json_error(409, "KEY_CHANGE_REQUIRED", str(exc))
        return json_response({"token": issued.token, "issuedAt": issued.issued_at.isoformat()})

    async def meter_state(self, request: Request, _: None) -> Response:
        state = await self.service.meter_state(request.path_params["number"])
        if state is None:
            return json_error(404, "UNKNOWN_METER", "the meter is not registered")
        return json_response(state.to_json())

    async def order_key_change(self, request: Request, data: dict[str, Any]) -> Response:
        revision = _int(data, "keyRevision")
        assert revision is not None
        sgc, ti = data.get("supplyGroupCode"), data.get("tariffIndex")
        if not isinstance(sgc, str | None) or not isinstance(ti, str | None):
            raise InvalidRequest("supplyGroupCode and tariffIndex must be strings")
        reference = _string(data, "reference")
        try:
            state = await self.service.order_key_change(
                request.path_params["number"],
                reference=reference,
                key_revision=revision,
                supply_group_code=sgc,
                tariff_index=ti,
            )
        except UnknownMeter:
            return json_error(404, "UNKNOWN_METER", "the meter is not registered")
        except DuplicateReference:
            return json_error(409, "DUPLICATE_REFERENCE", "the reference was used for another key change order")
        return json_response(state.to_json())

    async def sales(self, request: Request, _: None) -> Response:
        """``GET /v1/sales/{YYYY-MM-DD}[?after=ID&limit=N]``: the purchases made on one Jakarta calendar day
        (every status, with amount and token), the record a channel reconciles its day against, in pages
        of at most 20,000: ``next`` is the ``after`` of the following page, None on the last."""
        try:
            day = date.fromisoformat(request.path_params["day"])
        except ValueError:
            raise InvalidRequest("date must look like 2026-12-01") from None
        after, limit = request.query_params.get("after", "0"), request.query_params.get("limit", str(_MAX_LISTED))
        if not (after.isdigit() and limit.isdigit() and 1 <= int(limit) <= _MAX_LISTED and len(after) <= 18):
            raise InvalidRequest(f"after must be a row id and limit 1-{_MAX_LISTED}")
        start = datetime.combine(day, time(), tzinfo=JAKARTA)
        page = await self.service.sales_of_day(
            start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC), limit=int(limit) + 1, after=int(after)
        )
        more = len(page) > int(limit)
        page = page[: int(limit)]
        purchases = [{**v.to_json(), "amount": v.amount} for _, v in page]
        # "next": the ``after`` of the following page (None on the last); "truncated": there is more.
        following = str(page[-1][0]) if more else None
        return json_response({"date": day.isoformat(), "purchases": purchases, "truncated": more, "next": following})

    async def put_fault(self, request: Request, data: dict[str, Any]) -> Response:
        mode = data.get("mode")
        if mode not in FAULT_MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(FAULT_MODES)}")
        meter = data.get("meterNumber")
        if meter is not None:
            meter = _meter_number(data)
        delay_ms = _int(data, "delayMs", default=0) or 0
        pending_polls = _int(data, "pendingPolls", default=1)
        assert pending_polls is not None
        if not 0 <= delay_ms <= self.settings.max_fault_delay_ms:
            raise InvalidRequest(f"delayMs must be between 0 and {self.settings.max_fault_delay_ms}")
        if not 0 <= pending_polls <= 1000:
            raise InvalidRequest("pendingPolls must be between 0 and 1000")
        self.service.faults.set(Fault(mode, delay_ms, pending_polls), meter)
        logger.info("fault set mode=%s meter=%s", mode, meter or "*")
        return json_response({"faults": self.service.faults.snapshot()})

    async def delete_faults(self, request: Request, _: None) -> Response:
        self.service.faults.clear()
        return json_response({"faults": self.service.faults.snapshot()})


def create_app(settings: BillerSettings | None = None, *, clock: Clock | None = None) -> Starlette:
    """The biller as an ASGI app. ``clock`` (UTC ``datetime`` factory) is for tests."""
    settings = settings or BillerSettings()
    db = Database(settings.database_url, fastpath=settings.fastpath == "on")
    service = BillerService(
        db,
        settings.vending_key_bytes(),
        clock=clock or utc_now,
        timeout_fault_seconds=settings.timeout_fault_seconds,
    )
    api = _Endpoints(service, settings)

    async def start() -> None:
        if settings.seed_demo_data:
            added = await seed_meter_register(db)
            if added:
                logger.info("meter register: %d demo meters added", added)
        if settings.uses_development_vending_key:
            logger.warning("using the DEVELOPMENT vending key; tokens are not secure")

    routes = [
        Route("/v1/purchases", api.signed(api.purchase), methods=["POST"]),
        Route("/v1/purchases/{reference:path}", api.signed(api.purchase_status), methods=["GET"]),
        Route("/v1/management-tokens", api.signed(api.management), methods=["POST"]),
        Route("/v1/meters/{number}", api.signed(api.meter_state), methods=["GET"]),
        Route("/v1/meters/{number}/key-change", api.signed(api.order_key_change), methods=["PUT"]),
        Route("/v1/sales/{day}", api.signed(api.sales), methods=["GET"]),
    ]
    if settings.faults_enabled:  # a test switchboard: absent (404) unless enabled, never in production
        routes += [
            Route("/v1/faults", api.signed(api.put_fault), methods=["PUT"]),
            Route("/v1/faults", api.signed(api.delete_faults), methods=["DELETE"]),
        ]
    return json_service_app(
        "biller",
        settings,
        db,
        migrations=Path(__file__).parent / "migrations",
        metadata=BillerBase.metadata,
        routes=routes,
        on_startup=start,
        state={"service": service},
    )
