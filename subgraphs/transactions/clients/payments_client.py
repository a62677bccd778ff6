"""Client of the payment provider's merchant API: open, read and cancel top-up intents.

Requests are signed with ``SETRUM_PAYMENTS_SECRET`` (:mod:`setrum_common.signing`). Opening an intent
is idempotent at the provider by our top-up id (its merchant reference), so a retry after a timeout
gets the same virtual account, never a second one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from setrum_common.clock import as_utc
from setrum_common.signing import SIGNATURE_HEADER, sign_request

from ._http import ServiceHttp

__all__ = ["PaymentsClient", "PaymentsRefused", "PaymentsUnavailable", "ProviderIntent"]


class PaymentsUnavailable(Exception):
    """No answer from the provider (timeout, connection error, 5xx, an answer we cannot read)."""


class PaymentsRefused(Exception):
    """The provider refused the request (4xx); ``code`` is its error code."""

    def __init__(self, message: str, code: str | None) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class ProviderIntent:
    id: str
    merchant_reference: str
    amount: Decimal
    method: str
    status: str  # PENDING | PAID | CANCELLED | EXPIRED
    bank_code: str | None
    va_number: str | None
    qris_payload: str | None
    expires_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProviderIntent:
        try:
            return cls(
                id=str(data["id"]),
                merchant_reference=str(data["merchantReference"]),
                amount=Decimal(str(data["amount"])),
                method=str(data["method"]),
                status=str(data["status"]),
                bank_code=data.get("bankCode"),
                va_number=data.get("vaNumber"),
                qris_payload=data.get("qrisPayload"),
                expires_at=as_utc(datetime.fromisoformat(str(data["expiresAt"]))),
            )
        except (KeyError, ValueError, ArithmeticError) as error:
            raise PaymentsUnavailable(f"the provider answered an intent we cannot read ({error!r})") from None


class PaymentsClient:
    def __init__(
        self, base_url: str, secret: str, *, timeout_s: float = 10.0, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._secret = secret
        self._timeout_s = timeout_s
        self._http = ServiceHttp(base_url=base_url.rstrip("/"), timeout_s=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def open_intent(
        self, *, merchant_reference: str, amount: Decimal, method: str, bank_code: str | None
    ) -> ProviderIntent:
        body = {
            "merchantReference": merchant_reference,
            "amount": str(int(amount)),
            "method": method,
            "bankCode": bank_code,
        }
        return ProviderIntent.from_json(await self._send("POST", "/v1/intents", body))

    async def cancel_intent(self, intent_id: str) -> ProviderIntent:
        return ProviderIntent.from_json(await self._send("POST", f"/v1/intents/{intent_id}/cancel", {}))

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        content = orjson.dumps(body) if body is not None else b""
        headers = {SIGNATURE_HEADER: sign_request(self._secret, method, self._http.path(path), content)}
        try:
            async with asyncio.timeout(self._timeout_s):
                if method == "POST":
                    response = await self._http.post(path, content, {**headers, "content-type": "application/json"})
                else:
                    response = await self._http.get(path, headers)
        except (httpx.TimeoutException, TimeoutError, httpx.TransportError) as error:
            raise PaymentsUnavailable(f"the payment provider did not answer: {error!r}") from error
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or response.status_code >= 500:
            raise PaymentsUnavailable(f"the payment provider answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PaymentsRefused(str(data.get("message") or "refused"), data.get("code"))
        return data
