"""Client of master's binding quote (``POST /internal/quote``), asked with transactions' own service token.

The quote is master's GraphQL ``quote`` minus the GraphQL execution (which cost master more CPU
than the pricing): plain JSON on the same origin as the configured GraphQL URL. Master's error
codes (WRONG_CUSTOMER_NUMBER, CUSTOMER_BLOCKED, PRODUCT_UNAVAILABLE…) are re-raised as
:class:`DomainError` with the same code, so the buyer sees master's reason.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import httpx
import orjson
from pydantic import ValidationError

from setrum_common import deadline
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.quote_contract import INTERNAL_QUOTE_PATH, InternalQuote, QuoteRequest
from setrum_common.trust.service_keys import ServiceKeyring
from setrum_common.trust.service_tokens import service_headers

from ._http import ServiceHttp

__all__ = ["MasterClient", "internal_quote_url"]


# Codes master may answer that the buyer can act on; anything else becomes SERVICE_UNAVAILABLE.
_PASS_THROUGH = {
    ErrorCode.BAD_USER_INPUT,
    ErrorCode.NOT_FOUND,
    ErrorCode.WRONG_CUSTOMER_NUMBER,
    ErrorCode.WRONG_DIGIT_COUNT,
    ErrorCode.WRONG_CHECK_DIGIT,
    ErrorCode.AMOUNT_NOT_DIGITS,
    ErrorCode.AMOUNT_NOT_WHOLE_RUPIAH,
    ErrorCode.AMOUNT_OUT_OF_RANGE,
    ErrorCode.CUSTOMER_BLOCKED,
    ErrorCode.PRODUCT_UNAVAILABLE,
    ErrorCode.KWH_LIMIT_EXCEEDED,
    ErrorCode.BILLER_MAINTENANCE,
}


def internal_quote_url(master_url: str) -> str:
    """Master's internal quote URL from its configured GraphQL URL: the same origin and path
    prefix, ``/graphql`` replaced by ``/internal/quote`` (``http://m:4002/graphql`` ->
    ``http://m:4002/internal/quote``; a URL without ``/graphql`` gets the path appended)."""
    url = httpx.URL(master_url)
    path = url.path.rstrip("/").removesuffix("/graphql")
    return str(url.copy_with(path=path + INTERNAL_QUOTE_PATH, query=None, fragment=None))


class MasterClient:
    def __init__(
        self,
        url: str,
        keyring: ServiceKeyring,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        deadline_margin_s: float = 0.5,
    ) -> None:
        self._url = internal_quote_url(url)
        self._path = httpx.URL(self._url).path
        self._margin_s = deadline_margin_s
        self._keyring = keyring
        self._timeout_s = timeout_s
        self._http = ServiceHttp(timeout_s=timeout_s, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def quote(
        self,
        meter_number: str,
        denomination: Decimal,
        channel: str | None = None,
        *,
        instalment_paid: Decimal = Decimal("0"),
    ) -> InternalQuote:
        """``instalment_paid`` is what the meter's purchases have paid towards its debt so far."""
        asked = QuoteRequest(
            meter_number=meter_number, denomination=denomination, channel=channel, instalment_paid=instalment_paid
        )
        payload = await self._post(asked.model_dump(by_alias=True, mode="json"))
        try:
            return InternalQuote.model_validate(payload)
        except ValidationError as error:
            raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "Master answered a quote we cannot read") from error

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        content = orjson.dumps(body)
        timeout_s = deadline.budget_s(self._timeout_s, self._margin_s)
        try:
            async with asyncio.timeout(timeout_s):  # a bound on the whole exchange
                response = await self._http.post(
                    self._url,
                    content,
                    {
                        "content-type": "application/json",
                        **service_headers(self._keyring, "master", "POST", self._path, content),
                        **deadline.outgoing(timeout_s),
                    },
                )
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
        if response.status_code == 200:
            return payload
        error = payload.get("error")
        error = error if isinstance(error, dict) else {}
        code = str(error.get("code") or "")
        message = str(error.get("message") or f"Quote refused (HTTP {response.status_code})")
        if code in _PASS_THROUGH:
            raise DomainError(code, message)
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, f"Master could not quote: {message}")
