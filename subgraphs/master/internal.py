"""``POST /internal/quote``: the binding quote for Setrum services, as plain JSON.

Transactions asks master for a quote before every sale. Asking through GraphQL cost master more
CPU executing the query (~20 fields through strawberry and graphql-core) than pricing it, so
services get this route: the same :func:`.service.quotes.quote`, the same error codes, no GraphQL.
The public ``quote`` field stays for everyone else.

Request: ``{"meterNumber": "14233784991", "denomination": "100000", "channel": null}`` with an
``Authorization: Bearer <SERVICE token>`` header. Response 200: the quote, money and rates as
strings (exact decimals, printed like the GraphQL ``Decimal`` scalar), ints as ints. Errors:
``{"error": {"code": <ErrorCode>, "message": ...}}`` with 401 (no or a bad token, or not a
service), 400/404/422 (bad input, unknown meter, refused sale) - never a traceback.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.auth import viewer_from_authorization
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.observability import current_request_id

from .schema.types import plain
from .service import quotes
from .settings import Settings

__all__ = ["QUOTE_PATH", "internal_routes", "quote_json"]

logger = logging.getLogger("setrum.master.internal")

QUOTE_PATH = "/internal/quote"
_MAX_BODY = 4096  # a quote request is ~100 bytes

# HTTP status per error code; the code itself is what callers act on.
_STATUS = {
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 401,
    ErrorCode.BAD_USER_INPUT: 400,
    ErrorCode.WRONG_DIGIT_COUNT: 400,
    ErrorCode.WRONG_CHECK_DIGIT: 404,
    ErrorCode.AMOUNT_NOT_DIGITS: 400,
    ErrorCode.AMOUNT_NOT_WHOLE_RUPIAH: 400,
    ErrorCode.AMOUNT_OUT_OF_RANGE: 400,
    ErrorCode.WRONG_CUSTOMER_NUMBER: 404,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.CUSTOMER_BLOCKED: 422,
    ErrorCode.PRODUCT_UNAVAILABLE: 422,
    ErrorCode.KWH_LIMIT_EXCEEDED: 422,
}


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(code: str, message: str, status: int | None = None, **extra: Any) -> Response:
    return _json({"error": {"code": code, "message": message, **extra}}, status or _STATUS.get(code, 400))


def quote_json(quote: quotes.Quote) -> dict[str, Any]:
    """The quote as the GraphQL ``Quote`` prints its scalar fields (Decimal -> str, datetime -> ISO)."""
    meter, price = quote.facts.meter, quote.price
    return {
        "meterNumber": meter.number,
        "idpel": meter.idpel,
        "holderName": meter.holder_name,
        "tariffCode": meter.tariff_code,
        "powerVa": meter.power_va,
        "regionCode": meter.region_code,
        "monthlyKwhLimit": str(quote.monthly_kwh_limit),
        "channel": quote.channel,
        "nominal": str(price.nominal),
        "adminFee": str(price.admin_fee),
        "stampDuty": str(price.stamp_duty),
        "instalment": str(price.instalment),
        "ppjRate": str(plain(price.ppj_rate)),
        "ppj": str(price.ppj),
        "ppnRate": str(plain(price.ppn_rate)),
        "ppn": str(price.ppn),
        "energyValue": str(price.energy_value),
        "tariffRate": str(price.tariff_rate),
        "kwh": str(price.kwh),
        "totalPaid": str(price.total_paid),
        "quotedAt": quote.quoted_at.isoformat(),
        "instalmentDebtLeft": str(quote.instalment_debt_left),
        "instalmentPerPurchase": str(meter.instalment),
        "instalmentDebt": str(meter.instalment_debt),
    }


def _parse_body(raw: bytes) -> tuple[str, Decimal, str | None, Decimal]:
    """``(meterNumber, denomination, channel, instalmentPaid)`` or a coded :class:`DomainError`."""
    if len(raw) > _MAX_BODY:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "request body is too large")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "request body is not JSON") from None
    if not isinstance(body, dict):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "request body must be a JSON object")
    meter_number, denomination, channel = body.get("meterNumber"), body.get("denomination"), body.get("channel")
    if not isinstance(meter_number, str):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "meterNumber must be a string")
    # Strings or integers only: a JSON float is not an exact amount of money.
    if isinstance(denomination, bool) or not isinstance(denomination, str | int):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "denomination must be a decimal string or an integer")
    try:
        amount = Decimal(denomination.strip() if isinstance(denomination, str) else denomination)
    except (InvalidOperation, ValueError):
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"denomination {denomination!r} is not a number") from None
    if channel is not None and not isinstance(channel, str):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "channel must be a string or null")
    paid = body.get("instalmentPaid", "0")
    if isinstance(paid, bool) or not isinstance(paid, str | int):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "instalmentPaid must be a decimal string")
    try:
        instalment_paid = Decimal(paid)
    except (InvalidOperation, ValueError):
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"instalmentPaid {paid!r} is not a number") from None
    if not instalment_paid.is_finite() or instalment_paid < 0:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "instalmentPaid must be zero or more")
    return meter_number, amount, channel, instalment_paid


def internal_routes(settings: Settings) -> list[Route]:
    """Master's service-to-service routes (mounted next to ``/graphql``)."""
    jwt_secret = settings.jwt_secret.get_secret_value()
    service_secret = settings.service_secret.get_secret_value()
    default_channel = settings.default_channel

    async def quote(request: Request) -> Response:
        try:
            viewer = viewer_from_authorization(request.headers, jwt_secret=jwt_secret, service_secret=service_secret)
        except DomainError as error:
            return _error(ErrorCode.UNAUTHENTICATED, error.message, 401)
        if not viewer.is_service:
            return _error(ErrorCode.UNAUTHENTICATED, "Only Setrum services may call this: send a service token", 401)
        try:
            meter_number, denomination, channel, instalment_paid = _parse_body(await request.body())
            result = await quotes.quote(
                request.app.state.db, meter_number, denomination, channel, default_channel=default_channel,
                instalment_paid=instalment_paid,
            )  # fmt: skip
        except DomainError as error:
            return _error(error.code, error.message)
        except Exception:
            # Not the caller's fault (the database is down…): log it, answer without a traceback.
            request_id = current_request_id() or request.headers.get("x-request-id")
            logger.exception("internal quote failed (request %s)", request_id)
            extra = {"requestId": request_id} if request_id else {}
            return _error(ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error", 500, **extra)
        return _json(quote_json(result))

    return [Route(QUOTE_PATH, quote, methods=["POST"])]
