"""Client of the biller's HTTP API (docs/domain.md §The biller): signed JSON requests, idempotent on reference.

Failures are translated at this edge into a small tree the purchase flow acts on:

    BillerError
    ├── BillerUnavailable   timeout, connection error, 5xx, circuit open: the outcome is unknown -> stay PENDING
    ├── BillerMaintenance   maintenance / cut-off: nothing was sold -> fail and refund
    └── BillerRejected      4xx such as 409 DUPLICATE_REFERENCE: a bug or an attack, never retried blindly
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import orjson

from setrum_common import deadline
from setrum_common.breaker import CircuitBreaker
from setrum_common.clock import as_utc
from setrum_common.trust.service_keys import ServiceKeyring
from setrum_common.trust.service_tokens import service_headers

from ._http import ServiceHttp, ServiceResponse

__all__ = [
    "BillerClient",
    "BillerError",
    "BillerMaintenance",
    "BillerOutcome",
    "BillerRejected",
    "BillerUnavailable",
    "ManagementTokenAnswer",
]

# A busy day's sales list (up to the biller's 20,000 rows at ~150 bytes) is several megabytes; every other
# biller answer is a few hundred bytes, but one cap covers the client.
BILLER_MAX_RESPONSE_BYTES = 8 * 1024 * 1024

_MAINTENANCE_CODES = {"MAINTENANCE", "BILLER_MAINTENANCE", "CUT_OFF", "CUTOFF"}


class BillerError(Exception):
    """Any failure to get an outcome from the biller."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


MAX_SALES_PAGES = 50  # a day of up to a million sales (20,000 a page) is reconciled whole


class BillerUnavailable(BillerError):
    """We do not know what the biller did (timeout, connection error, 5xx)."""


class BillerMaintenance(BillerError):
    """The biller refuses all sales for now (maintenance or daily cut-off)."""


class BillerRejected(BillerError):
    """The biller refused the request itself (4xx)."""


@dataclass(frozen=True, slots=True)
class BillerOutcome:
    status: str  # SUCCESS | PENDING | FAILED
    reference: str
    biller_reference: str | None
    token: str | None
    kwh: Decimal | None
    issued_at: datetime | None
    code: str | None
    message: str | None
    key_change_tokens: tuple[str, ...] | None = None  # entered before the token, in this order

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BillerOutcome:
        status = str(data.get("status") or "").upper()
        if status not in ("SUCCESS", "PENDING", "FAILED"):
            raise BillerUnavailable(f"biller answered an unknown status {status!r}")
        issued = data.get("issuedAt")
        kwh = data.get("kwh")
        token = data.get("token")
        return cls(
            status=status,
            reference=str(data.get("reference") or ""),
            biller_reference=data.get("billerReference"),
            token="".join(ch for ch in str(token) if ch.isdigit()) if token else None,
            kwh=Decimal(str(kwh)) if kwh is not None else None,
            issued_at=as_utc(datetime.fromisoformat(issued)) if issued else None,  # a naive time is UTC
            code=data.get("code"),
            message=data.get("message"),
            key_change_tokens=_token_list(data.get("keyChangeTokens")),
        )


def _token_list(value: Any) -> tuple[str, ...] | None:
    if not value:
        return None
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BillerUnavailable("biller answered keyChangeTokens that are not a list of tokens")
    return tuple("".join(ch for ch in t if ch.isdigit()) for t in value)


@dataclass(frozen=True, slots=True)
class ManagementTokenAnswer:
    token: str  # 20 digits
    issued_at: datetime

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagementTokenAnswer:
        digits = "".join(ch for ch in str(data.get("token") or "") if ch.isdigit())
        issued = data.get("issuedAt")
        if len(digits) != 20 or not isinstance(issued, str):
            raise BillerUnavailable("biller answered a management token we cannot read")
        try:
            issued_at = as_utc(datetime.fromisoformat(issued))  # a naive time is UTC
        except ValueError:
            raise BillerUnavailable("biller answered an unreadable issuedAt") from None
        return cls(token=digits, issued_at=issued_at)


class BillerClient:
    """One pooled connection set per process; ``transport`` lets tests talk to fakes or ASGI apps."""

    def __init__(
        self,
        base_url: str,
        keyring: ServiceKeyring,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        breaker: CircuitBreaker | None = None,
        deadline_margin_s: float = 0.5,
    ) -> None:
        self._keyring = keyring
        self._timeout_s = timeout_s
        # Kept from the request's deadline to store and answer PENDING after a biller timeout.
        self._margin_s = deadline_margin_s
        # When the biller is down, purchases answer PENDING at once instead of each waiting out a timeout.
        self.breaker = breaker or CircuitBreaker()
        self._http = ServiceHttp(
            base_url=base_url.rstrip("/"),
            timeout_s=timeout_s,
            transport=transport,
            max_response_bytes=BILLER_MAX_RESPONSE_BYTES,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def available(self) -> bool:
        """False while the circuit breaker is open (the biller failed repeatedly just now)."""
        return self.breaker.available()

    async def purchase(
        self,
        *,
        reference: str,
        meter_number: str,
        kwh_tenths: int,
        amount: Decimal,
        deductions: dict[str, Decimal] | None = None,
    ) -> BillerOutcome:
        """``POST /v1/purchases``; replaying the same reference returns the stored outcome.

        ``deductions`` (``ppj``, ``ppn``, ``stampDuty``, ``instalment``) are the receipt's: the biller
        prices the energy value left of ``amount`` itself and refuses other kWh (422 KWH_MISMATCH)."""
        body: dict[str, Any] = {
            "reference": reference, "meterNumber": meter_number, "kwhTenths": kwh_tenths, "amount": str(amount),
        }  # fmt: skip
        body.update((name, str(value)) for name, value in (deductions or {}).items())
        response = await self._send("POST", "/v1/purchases", body)
        return BillerOutcome.from_json(self._json_or_raise(response))

    async def status(self, reference: str) -> BillerOutcome | None:
        """``GET /v1/purchases/{reference}``; None if the biller has never seen the reference."""
        response = await self._send("GET", f"/v1/purchases/{reference}", None)
        if response.status_code == 404:
            return None
        return BillerOutcome.from_json(self._json_or_raise(response))

    async def key_change_due(self, meter_number: str) -> str | None:
        """``GET /v1/meters/{number}``: why the meter's next sale carries key change tokens, or None
        (none due, or the biller does not know the meter)."""
        response = await self._send("GET", f"/v1/meters/{meter_number}", None)
        if response.status_code == 404:
            return None
        change = self._json_or_raise(response).get("keyChange")
        return str(change.get("reason") or "a new decoder key") if isinstance(change, dict) else None

    async def sales_of_day(
        self, day: date, *, page_size: int | None = None
    ) -> tuple[list[tuple[BillerOutcome, Decimal]], bool]:
        """``GET /v1/sales/{YYYY-MM-DD}``, page after page: the biller's purchases made on a Jakarta day,
        each with the amount asked, and whether the list was cut short (past :data:`MAX_SALES_PAGES`
        pages, or a biller that does not page)."""
        sales: list[tuple[BillerOutcome, Decimal]] = []
        after: str | None = None
        for _ in range(MAX_SALES_PAGES):
            query = "&".join(
                part for part in (f"after={after}" if after else "", f"limit={page_size}" if page_size else "") if part
            )
            path = f"/v1/sales/{day.isoformat()}" + (f"?{query}" if query else "")
            data = self._json_or_raise(await self._send("GET", path, None))
            rows = data.get("purchases")
            if not isinstance(rows, list):
                raise BillerUnavailable("biller answered a sales list we cannot read")
            try:
                sales += [(BillerOutcome.from_json(row), Decimal(str(row["amount"]))) for row in rows]
            except (AttributeError, KeyError, TypeError, ArithmeticError, ValueError):
                raise BillerUnavailable("biller answered a sales list we cannot read") from None
            following = data.get("next")
            if not data.get("truncated"):
                return sales, False
            if not isinstance(following, str) or not following.isdigit() or following == after:
                return sales, True  # more, but no way on
            after = following
        return sales, True

    async def management_token(
        self, *, meter_number: str, kind: str, value: int | None, reference: str
    ) -> ManagementTokenAnswer:
        """``POST /v1/management-tokens``: a class 2 token, once per ``reference`` (a retry with the
        same reference answers the same token and spends no new TID).

        404 UNKNOWN_METER and 409 KEY_CHANGE_REQUIRED arrive as :class:`BillerRejected` with that code."""
        body = {"meterNumber": meter_number, "kind": kind, "value": value, "reference": reference}
        response = await self._send("POST", "/v1/management-tokens", body)
        return ManagementTokenAnswer.from_json(self._json_or_raise(response))

    async def _send(self, method: str, path: str, body: dict[str, Any] | None) -> ServiceResponse:
        if not self.breaker.allow():
            raise BillerUnavailable("biller circuit open: it failed repeatedly just now", code="BILLER_CIRCUIT_OPEN")
        healthy = False
        try:
            response = await self._exchange(method, path, body)
            # A 503 is the biller's maintenance answer: it is up. Other 5xx count against it.
            healthy = response.status_code < 500 or response.status_code == 503
            return response
        finally:
            if healthy:
                self.breaker.succeeded()
            else:
                self.breaker.failed()

    async def _exchange(self, method: str, path: str, body: dict[str, Any] | None) -> ServiceResponse:
        content = orjson.dumps(body) if body is not None else b""
        # Our own service token for this one request (the path as it goes on the wire: a base URL may carry
        # a prefix), over its body, with a fresh nonce the biller remembers.
        signed = service_headers(self._keyring, "biller", method, self._http.path(path), content)
        timeout_s = deadline.budget_s(self._timeout_s, self._margin_s)
        try:
            # httpx timeouts are per phase (connect, read…); this bounds the whole exchange.
            async with asyncio.timeout(timeout_s):
                if method == "POST":
                    headers = {
                        "content-type": "application/json",
                        **signed,
                        **deadline.outgoing(timeout_s),
                    }
                    return await self._http.post(path, content, headers)
                return await self._http.get(path, {**signed, **deadline.outgoing(timeout_s)})
        except (httpx.TimeoutException, TimeoutError) as error:
            raise BillerUnavailable(f"biller timed out: {error!r}", code="BILLER_TIMEOUT") from error
        except httpx.TransportError as error:
            raise BillerUnavailable(f"biller unreachable: {error!r}") from error

    @staticmethod
    def _json_or_raise(response: ServiceResponse) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        code = str(data.get("code") or "").upper() or None
        if response.status_code == 503 or (code in _MAINTENANCE_CODES):
            raise BillerMaintenance(str(data.get("message") or "biller under maintenance"), code=code)
        if response.status_code >= 500:
            raise BillerUnavailable(f"biller answered HTTP {response.status_code}", code=code)
        if response.status_code >= 400:
            raise BillerRejected(
                str(data.get("message") or f"biller refused the request (HTTP {response.status_code})"), code=code
            )
        if not data:
            raise BillerUnavailable("biller answered without a JSON object")
        return data
