"""In-process fakes of master (the internal quote route) and the biller (Biller HTTP API), for MockTransport.

They check what the real services check (the service token, the HMAC signature) and keep enough
state to prove the properties we care about: how many tokens were sold per reference.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from setrum_common.demo_data import DEFAULT_CHANNEL, METERS, TARIFFS, DemoMeter
from setrum_common.quote_contract import InternalQuote, QuoteRequest
from setrum_common.trust.service_keys import load_keyring
from setrum_common.trust.service_tokens import SERVICE_TOKEN_HEADER, ReplayCache, ServiceAuthError, verify_service_token

__all__ = ["FakeMaster", "FakeBiller", "quote_for"]

ADMIN_FEE = Decimal("2500")
CENT = Decimal("0.01")


def _rate(meter: DemoMeter) -> tuple[Decimal, Decimal]:
    for tariff in TARIFFS:
        if (
            tariff.code == meter.tariff_code
            and tariff.min_va <= meter.power_va
            and (tariff.max_va is None or meter.power_va <= tariff.max_va)
        ):
            return tariff.rate, tariff.ppn_rate
    raise AssertionError(f"no tariff for {meter}")


def quote_for(
    meter: DemoMeter,
    denomination: Decimal,
    ppj_rate: Decimal = Decimal("0.024"),
    instalment_paid: Decimal = Decimal(0),
    debt: Decimal | None = None,
) -> dict[str, Any]:
    """docs/domain.md §Price and kWh arithmetic (a fixed PPJ rate is enough for these tests); the instalment is the
    fixed amount, never more than the debt left."""
    rate, ppn_rate = _rate(meter)
    debt = meter.instalment_debt if debt is None else debt
    stamp = Decimal("10000") if denomination > Decimal("5000000") else Decimal(0)
    instalment = max(min(meter.instalment, debt - instalment_paid), Decimal(0))
    net = denomination - stamp - instalment
    stroom_exact = net / (1 + ppj_rate + ppn_rate)
    ppj = (stroom_exact * ppj_rate).quantize(CENT, ROUND_HALF_UP)
    ppn = (stroom_exact * ppn_rate).quantize(CENT, ROUND_HALF_UP)
    stroom = net - ppj - ppn
    kwh = (stroom / rate).quantize(Decimal("0.1"), ROUND_FLOOR)
    quote = InternalQuote(
        meter_number=meter.number,
        idpel=meter.idpel,
        holder_name=meter.holder_name,
        tariff_code=meter.tariff_code,
        power_va=meter.power_va,
        region_code=meter.region,
        monthly_kwh_limit=Decimal(meter.power_va) * 720 / 1000,
        channel=DEFAULT_CHANNEL,
        nominal=denomination.quantize(CENT),
        admin_fee=ADMIN_FEE.quantize(CENT),
        stamp_duty=stamp.quantize(CENT),
        instalment=instalment.quantize(CENT),
        ppj_rate=ppj_rate,
        ppj=ppj,
        ppn_rate=ppn_rate,
        ppn=ppn,
        energy_value=stroom.quantize(CENT),
        tariff_rate=rate,
        kwh=kwh,
        total_paid=(denomination + ADMIN_FEE).quantize(CENT),
        quoted_at=datetime(2026, 1, 15, 3, 0, tzinfo=UTC),
        instalment_per_purchase=meter.instalment.quantize(CENT),
        instalment_debt=debt.quantize(CENT),
        instalment_debt_left=(debt - instalment_paid - instalment).quantize(CENT),
    )
    return quote.model_dump(by_alias=True, mode="json")


_REPLAYS = {"master": ReplayCache(), "biller": ReplayCache()}


def signed_by_transactions(request: httpx.Request, audience: str) -> bool:
    """The request carries transactions' service token for ``audience`` (its development key), as the real
    master and biller check it."""
    try:
        caller = verify_service_token(
            load_keyring(audience, None, None),
            request.headers.get(SERVICE_TOKEN_HEADER),
            request.method,
            request.url.path,
            request.content,
            replay=_REPLAYS[audience],
        )
    except ServiceAuthError:
        return False
    return caller == "transactions"


def _error(code: str, message: str, status: int) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


@dataclass
class FakeMaster:
    denominations: set[Decimal] = field(
        default_factory=lambda: {Decimal(v) for v in (20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 5_000_000)}
    )
    calls: int = 0
    debts: dict[str, Decimal] = field(default_factory=dict)  # instalment debt overrides by meter number

    async def handle(self, request: httpx.Request) -> httpx.Response:
        """Master's ``POST /internal/quote``: JSON in, the quote or ``{"error": {code, message}}`` out."""
        self.calls += 1
        if request.method != "POST" or request.url.path != "/internal/quote":
            return httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no such route"}})
        if not signed_by_transactions(request, "master"):
            return _error("UNAUTHENTICATED", "quote needs transactions' service token", 401)
        asked = QuoteRequest.model_validate_json(request.content)
        number, denomination = asked.meter_number, asked.denomination
        if not number.isdigit() or len(number) not in (11, 12):
            return _error("WRONG_DIGIT_COUNT", "meter number has 11 digits", 400)
        meter = next((m for m in METERS if number in (m.number, m.idpel)), None)
        if meter is None:
            return _error("WRONG_CUSTOMER_NUMBER", "unknown meter", 404)
        if meter.status == "BLOCKED":
            return _error("CUSTOMER_BLOCKED", "meter is blocked", 422)
        if denomination not in self.denominations:
            return _error("PRODUCT_UNAVAILABLE", "no such denomination", 422)
        paid = asked.instalment_paid
        debt = self.debts.get(meter.number)
        return httpx.Response(200, json=quote_for(meter, denomination, instalment_paid=paid, debt=debt))


@dataclass
class _Sale:
    body: dict[str, Any]
    polls_left: int
    final: str  # SUCCESS | FAILED
    token: str | None = None


@dataclass
class FakeBiller:
    """Modes: success | pending_then_success | pending_forever | fail | timeout | timeout_after_sale | maintenance |
    duplicate_reference (every new sale answered 409: the biller claims to hold another sale under that reference)."""

    mode: str = "success"
    pending_polls: int = 1
    fail_every: int = 0  # with mode "success": every n-th new sale fails
    sales: dict[str, _Sale] = field(default_factory=dict)
    posts: int = 0
    gets: int = 0
    tokens_issued: int = 0

    def _token(self) -> str:
        self.tokens_issued += 1
        return f"{self.tokens_issued:020d}"

    def _answer(self, reference: str, sale: _Sale) -> httpx.Response:
        if sale.polls_left > 0:
            status, token = "PENDING", None
        else:
            status = sale.final
            if status == "SUCCESS" and sale.token is None:
                sale.token = self._token()
            token = sale.token
        return httpx.Response(
            200,
            json={
                "status": status,
                "reference": reference,
                "billerReference": f"BLR-{reference[-8:]}",
                "token": token,
                "kwh": str(Decimal(sale.body["kwhTenths"]) / 10) if token else None,
                "issuedAt": "2026-01-15T03:00:00+00:00" if token else None,
                "code": "METER_BLOCKED" if status == "FAILED" else None,
                "message": None,
            },
        )

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if not signed_by_transactions(request, "biller"):
            return httpx.Response(401, json={"code": "UNAUTHENTICATED", "message": "not transactions' token"})
        if self.mode == "maintenance":
            return httpx.Response(503, json={"code": "MAINTENANCE", "message": "cut-off 23:00-00:30"})
        path = request.url.path
        if request.method == "POST" and path == "/v1/purchases":
            self.posts += 1
            body = json.loads(request.content)
            reference = body["reference"]
            sale = self.sales.get(reference)
            if sale is None:
                if self.mode == "duplicate_reference":
                    return httpx.Response(409, json={"code": "DUPLICATE_REFERENCE"})
                if self.mode == "timeout":
                    raise httpx.ReadTimeout("fake biller timeout", request=request)
                polls = self.pending_polls if self.mode.startswith("pending") else 0
                if self.mode == "pending_forever":
                    polls = 10**9
                fails = self.mode == "fail" or (
                    self.fail_every > 0 and len(self.sales) % self.fail_every == self.fail_every - 1
                )
                sale = _Sale(body, polls, "FAILED" if fails else "SUCCESS")
                self.sales[reference] = sale
                if self.mode == "timeout_after_sale":
                    raise httpx.ReadTimeout("fake biller sold but the answer was lost", request=request)
            elif {k: sale.body[k] for k in ("meterNumber", "amount")} != {
                k: body[k] for k in ("meterNumber", "amount")
            }:
                return httpx.Response(409, json={"code": "DUPLICATE_REFERENCE"})
            else:
                sale.polls_left = max(0, sale.polls_left - 1)
            return self._answer(reference, sale)
        if request.method == "GET" and path.startswith("/v1/purchases/"):
            self.gets += 1
            reference = path.rsplit("/", 1)[1]
            sale = self.sales.get(reference)
            if sale is None:
                return httpx.Response(404, json={"code": "NOT_FOUND"})
            sale.polls_left = max(0, sale.polls_left - 1)
            return self._answer(reference, sale)
        return httpx.Response(404, json={"code": "NOT_FOUND"})
