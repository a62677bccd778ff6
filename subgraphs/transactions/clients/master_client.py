"""Client of master's ``quote`` query: the binding price of a purchase, asked as a SERVICE.

Master's coded GraphQL errors (WRONG_CUSTOMER_NUMBER, CUSTOMER_BLOCKED, PRODUCT_UNAVAILABLE…)
are re-raised as :class:`DomainError` with the same code, so the buyer sees master's reason.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import orjson

from setrum_common.auth import issue_service_token
from setrum_common.errors import DomainError, ErrorCode

from ._http import ServiceHttp

__all__ = ["MasterClient", "Quote", "QUOTE_QUERY"]

QUOTE_QUERY = """
query TransactionsQuote($meterNumber: String!, $denomination: Decimal!, $channel: String) {
  quote(meterNumber: $meterNumber, denomination: $denomination, channel: $channel) {
    meterNumber idpel holderName tariffCode powerVa monthlyKwhLimit
    nominal adminFee stampDuty ppn ppj instalment energyValue kwh totalPaid
  }
}
"""

_TOKEN_REUSE_S = 60.0  # well inside SERVICE_TOKEN_TTL (5 min), so a reused token never expires in flight

# Codes master may answer that the buyer can act on; anything else becomes SERVICE_UNAVAILABLE.
_PASS_THROUGH = {
    ErrorCode.BAD_USER_INPUT,
    ErrorCode.NOT_FOUND,
    ErrorCode.WRONG_CUSTOMER_NUMBER,
    ErrorCode.WRONG_DIGIT_COUNT,
    ErrorCode.CUSTOMER_BLOCKED,
    ErrorCode.PRODUCT_UNAVAILABLE,
    ErrorCode.KWH_LIMIT_EXCEEDED,
    ErrorCode.BILLER_MAINTENANCE,
}


@dataclass(frozen=True, slots=True)
class Quote:
    meter_number: str
    idpel: str
    holder_name: str
    tariff_code: str
    power_va: int
    nominal: Decimal
    admin_fee: Decimal
    stamp_duty: Decimal
    ppn: Decimal
    ppj: Decimal
    instalment: Decimal
    energy_value: Decimal
    kwh: Decimal
    total_paid: Decimal
    monthly_kwh_limit: Decimal

    @property
    def limit_tenths(self) -> int:
        return int((self.monthly_kwh_limit * 10).to_integral_value(rounding="ROUND_FLOOR"))

    @property
    def kwh_tenths(self) -> int:
        return int((self.kwh * 10).to_integral_value(rounding="ROUND_FLOOR"))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        def money(name: str) -> Decimal:
            value = Decimal(str(data[name]))
            if not value.is_finite():
                raise InvalidOperation(name)
            return value

        return cls(
            meter_number=str(data["meterNumber"]),
            idpel=str(data["idpel"]),
            holder_name=str(data["holderName"]),
            tariff_code=str(data["tariffCode"]),
            power_va=int(data["powerVa"]),
            nominal=money("nominal"),
            admin_fee=money("adminFee"),
            stamp_duty=money("stampDuty"),
            ppn=money("ppn"),
            ppj=money("ppj"),
            instalment=money("instalment"),
            energy_value=money("energyValue"),
            kwh=money("kwh"),
            total_paid=money("totalPaid"),
            monthly_kwh_limit=money("monthlyKwhLimit"),
        )


class MasterClient:
    def __init__(
        self,
        url: str,
        service_secret: str,
        *,
        service_name: str = "transactions",
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = url
        self._secret = service_secret
        self._service_name = service_name
        self._timeout_s = timeout_s
        self._http = ServiceHttp(timeout_s=timeout_s, transport=transport)
        self._token: tuple[str, float] | None = None

    def _service_token(self) -> str:
        """Our service token, re-issued every ``_TOKEN_REUSE_S`` (it is valid for 5 minutes): reusing
        one lets master's verified-token memo answer instead of a JWT decode per quote."""
        now = time.monotonic()
        if self._token is None or now >= self._token[1]:
            self._token = (issue_service_token(self._secret, self._service_name), now + _TOKEN_REUSE_S)
        return self._token[0]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def quote(self, meter_number: str, denomination: Decimal, channel: str | None = None) -> Quote:
        data = await self._execute(
            QUOTE_QUERY,
            {"meterNumber": meter_number, "denomination": str(denomination), "channel": channel},
        )
        try:
            return Quote.from_json(data["quote"])
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Master answered a quote we cannot read") from error

    async def _execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        token = self._service_token()
        try:
            async with asyncio.timeout(self._timeout_s):  # a bound on the whole exchange
                request = self._http.request(
                    "POST",
                    self._url,
                    content=orjson.dumps({"query": query, "variables": variables}),
                    headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
                )
                response = await self._http.send(request)
        except (httpx.TimeoutException, TimeoutError):
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Master data service timed out; try again") from None
        except httpx.TransportError:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Master data service is unreachable; try again") from None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"Master answered HTTP {response.status_code}")
        errors = payload.get("errors") or []
        if errors:
            first = errors[0] if isinstance(errors[0], dict) else {}
            code = str((first.get("extensions") or {}).get("code") or "")
            message = str(first.get("message") or "Quote refused")
            if code in _PASS_THROUGH:
                raise DomainError(code, message)
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"Master could not quote: {message}")
        data = payload.get("data")
        if not isinstance(data, dict):
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Master answered without data")
        return data
