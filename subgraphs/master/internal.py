"""``POST /internal/quote``: the binding quote for Setrum services, as plain JSON.

Transactions asks master for a quote before every sale. Asking through GraphQL cost master more
CPU executing the query (~20 fields through strawberry and graphql-core) than pricing it, so
services get this route: the same :func:`.service.quotes.quote`, the same error codes, no GraphQL.
The public ``quote`` field stays for everyone else.

Only transactions may call it, with a service token signed by its own key (:mod:`setrum_common.trust`).
The request and the answer are the models of :mod:`setrum_common.quote_contract` (transactions
uses the same ones). Errors: ``{"error": {"code": <ErrorCode>, "message": ...}}`` with 401/403 (no
valid token of transactions), 400/404/422 (bad input, unknown meter, refused sale) - never
a traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.observability import current_request_id
from setrum_common.quote_contract import INTERNAL_QUOTE_PATH, QuoteRequest
from setrum_common.trust.internal_routes import InternalGuard

from .service import quotes
from .settings import MasterSettings

__all__ = ["QUOTE_CALLERS", "internal_routes"]

QUOTE_CALLERS = ("transactions",)

logger = logging.getLogger("setrum.master.internal")

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


def _parse_body(raw: bytes) -> QuoteRequest:
    """The request, or a BAD_USER_INPUT :class:`DomainError` saying what is wrong with it."""
    if len(raw) > _MAX_BODY:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "request body is too large")
    try:
        return QuoteRequest.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"{where}: {first['msg']}" if where else first["msg"]) from None


def internal_routes(settings: MasterSettings) -> list[Route]:
    """Master's service-to-service routes (mounted next to ``/graphql``)."""
    guard = InternalGuard(settings.service_keyring("master"))
    default_channel = settings.default_channel

    async def quote(request: Request) -> Response:
        try:
            asked = _parse_body(await request.body())
            result = await quotes.quote(
                request.app.state.db,
                asked.meter_number,
                asked.denomination,
                asked.channel,
                default_channel=default_channel,
                instalment_paid=asked.instalment_paid,
            )
        except DomainError as error:
            return _error(error.code, error.message)
        except Exception:
            # Not the caller's fault (the database is down…): log it, answer without a traceback.
            request_id = current_request_id() or request.headers.get("x-request-id")
            logger.exception("internal quote failed (request %s)", request_id)
            extra = {"requestId": request_id} if request_id else {}
            return _error(ErrorCode.INTERNAL_SERVER_ERROR, "Internal server error", 500, **extra)
        answer = quotes.as_internal_quote(result).model_dump_json(by_alias=True)
        return Response(answer, media_type="application/json")

    return [Route(INTERNAL_QUOTE_PATH, guard.accepting(QUOTE_CALLERS, quote), methods=["POST"])]
