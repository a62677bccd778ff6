"""``POST /internal/meter-sales-state``: what the seller knows of a meter, for master's public quote.

Only master may ask (a service token signed with its own key, :mod:`setrum_common.trust`).
Request ``{"meterNumber": "14233784991", "powerVa": 1300}``. Answer:
the current Jakarta month, the cap (from the power master sends), the kWh counted this month, the
instalment paid so far and, asked of the biller, a key change due (null when none, or when the
biller does not answer: the quote then simply does not announce one). Errors:
``{"error": {"code", "message"}}`` with 401/403 or 400, never a traceback.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from setrum_common.clock import jakarta_month, utc_now
from setrum_common.errors import ErrorCode
from setrum_common.kwh_limit import monthly_limit_tenths
from setrum_common.trust.internal_routes import InternalGuard

from . import instalments
from . import repository as repo
from .clients import BillerError
from .service.dependencies import Services
from .settings import TransactionsSettings

__all__ = ["SALES_STATE_CALLERS", "SALES_STATE_PATH", "internal_routes"]

logger = logging.getLogger("setrum.transactions.internal")

SALES_STATE_PATH = "/internal/meter-sales-state"
SALES_STATE_CALLERS = ("master",)


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _tenths(value: int) -> str:
    return str((Decimal(value) / 10).quantize(Decimal("0.1")))


def internal_routes(settings: TransactionsSettings, services: Services) -> list[Route]:
    guard = InternalGuard(settings.service_keyring("transactions"))

    async def sales_state(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
            number, power_va = body["meterNumber"], body["powerVa"]
            if not (isinstance(number, str) and len(number) == 11 and number.isdigit()):
                raise ValueError("meterNumber")
            if isinstance(power_va, bool) or not isinstance(power_va, int) or power_va <= 0:
                raise ValueError("powerVa")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            message = f"send {{meterNumber: 11 digits, powerVa: positive int}} ({error})"
            return _json({"error": {"code": ErrorCode.BAD_USER_INPUT, "message": message}}, 400)
        month = jakarta_month(utc_now())
        db = request.app.state.db
        async with db.session() as session:
            used = (await repo.usage_by_meter_month(session, [(number, month)])).get((number, month), 0)
        paid = await db.run(instalments.paid_for, number, one_statement=True)
        try:
            key_change = await services.biller.key_change_due(number)
        except BillerError as error:
            logger.warning("key state of %s unknown: %s", number, error)
            key_change = None
        return _json({
            "month": month,
            "limitKwh": _tenths(monthly_limit_tenths(power_va)),
            "usedKwh": _tenths(used),
            "instalmentPaid": str(paid),
            "keyChange": None if key_change is None else {"reason": key_change},
        })  # fmt: skip

    return [Route(SALES_STATE_PATH, guard.accepting(SALES_STATE_CALLERS, sales_state), methods=["POST"])]
