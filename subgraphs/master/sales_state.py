"""What the seller knows about a meter that master does not: this month's kWh, instalments paid,
and whether the biller will sell it key change tokens first.

The public ``quote`` asks transactions for it (``POST /internal/meter-sales-state``, as a SERVICE)
so a quote refuses what the purchase would refuse and shows what is left this month. The
purchase itself never comes through here: transactions checks the cap in the same database
transaction that sells. If transactions does not answer, the quote still prices the sale and
leaves these fields null (it cannot sell without transactions anyway).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import orjson

from setrum_common.errors import DomainError, ErrorCode
from setrum_common.trust.service_keys import ServiceKeyring
from setrum_common.trust.service_tokens import service_headers

__all__ = ["SALES_STATE_PATH", "KeyChangeNotice", "SalesState", "SalesStateClient"]

logger = logging.getLogger("setrum.master.sales_state")

SALES_STATE_PATH = "/internal/meter-sales-state"


@dataclass(frozen=True, slots=True)
class KeyChangeNotice:
    """The biller will sell the meter's key change pair with its next token."""

    reason: str


@dataclass(frozen=True, slots=True)
class SalesState:
    month: str  # the Jakarta calendar month the cap counts
    limit_kwh: Decimal
    used_kwh: Decimal
    instalment_paid: Decimal
    key_change: KeyChangeNotice | None

    @property
    def remaining_kwh(self) -> Decimal:
        return max(self.limit_kwh - self.used_kwh, Decimal("0.0"))

    def refuse_beyond_cap(self, meter_number: str, kwh: Decimal) -> None:
        """KWH_LIMIT_EXCEEDED, as the purchase would answer, when ``kwh`` does not fit this month."""
        if kwh > self.remaining_kwh:
            raise DomainError(
                ErrorCode.KWH_LIMIT_EXCEEDED,
                f"Meter {meter_number} may receive at most {self.limit_kwh} kWh in {self.month}; "
                f"{self.remaining_kwh} kWh are left and this purchase carries {kwh}",
                remainingKwh=str(self.remaining_kwh),
            )

    @classmethod
    def from_json(cls, body: Any) -> SalesState:
        change = body.get("keyChange")
        return cls(
            month=str(body["month"]),
            limit_kwh=Decimal(body["limitKwh"]),
            used_kwh=Decimal(body["usedKwh"]),
            instalment_paid=Decimal(body["instalmentPaid"]),
            key_change=None if not change else KeyChangeNotice(str(change["reason"])),
        )


class SalesStateClient:
    """Asks transactions for a meter's :class:`SalesState`; None when it cannot tell."""

    def __init__(
        self,
        base_url: str,
        keyring: ServiceKeyring,
        *,
        timeout_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._url = httpx.URL(base_url.rstrip("/") + SALES_STATE_PATH)
        self._keyring = keyring
        self._http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def state(self, meter_number: str, power_va: int) -> SalesState | None:
        body = orjson.dumps({"meterNumber": meter_number, "powerVa": power_va})
        headers = {
            **service_headers(self._keyring, "transactions", "POST", self._url.path, body),
            "content-type": "application/json",
        }
        try:
            response = await self._http.post(self._url, content=body, headers=headers)
            if response.status_code != 200:
                logger.warning("sales state of %s: transactions answered %s", meter_number, response.status_code)
                return None
            return SalesState.from_json(orjson.loads(response.content))
        except (httpx.HTTPError, orjson.JSONDecodeError, KeyError, TypeError, InvalidOperation) as error:
            logger.warning("sales state of %s unavailable: %s", meter_number, error)
            return None

    async def aclose(self) -> None:
        await self._http.aclose()
