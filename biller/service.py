"""What the biller does: sell tokens idempotently, allocate TIDs, obey the fault switches.

Rules that matter for money:

- **One token per reference.** The reference is unique in the database; a replay returns the
  stored outcome, a replay with another meter or amount is a :class:`DuplicateReference`.
- **TIDs per meter strictly increase**, across concurrent requests and restarts: the meter row
  is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite serialises writers with
  ``BEGIN IMMEDIATE``, plus an in-process lock so writers queue instead of busy-waiting), the
  TID is ``max(now's minute, last TID + 1)`` and ``last_tid`` is written in the same
  transaction as the purchase, so no TID is spent without its token being stored.
- **The vending key stays in memory.** Decoder keys are derived on demand.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.db import Database
from sts.amount import MAX_TENTHS, decode_amount, encode_tenths, tenths_to_kwh
from sts.keys import MeterKeyParams, derive_decoder_key
from sts.tid import MAX_TID, KeyChangeRequired, base_date_for_year, tid_for
from sts.tokens import ManagementKind, credit_token, management_token

from .faults import Fault, FaultBoard
from .models import ManagementToken, Meter, Purchase, PurchaseStatus

__all__ = [
    "BillerService",
    "Clock",
    "DuplicateReference",
    "IssuedManagementToken",
    "KeyChangeNeeded",
    "PurchaseView",
    "UnknownMeter",
    "meter_key_params",
    "utc_now",
]

logger = logging.getLogger("setrum.biller")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class DuplicateReference(Exception):
    """The reference was already used for another meter or amount."""


class UnknownMeter(LookupError):
    pass


class KeyChangeNeeded(Exception):
    """The meter's base date cannot express the current time any more."""


@dataclass(frozen=True, slots=True)
class PurchaseView:
    """A purchase as the HTTP API shows it."""

    status: str
    reference: str
    biller_reference: str
    token: str | None
    kwh: str | None
    issued_at: str | None
    code: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reference": self.reference,
            "billerReference": self.biller_reference,
            "token": self.token,
            "kwh": self.kwh,
            "issuedAt": self.issued_at,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class IssuedManagementToken:
    token: str
    issued_at: datetime
    tid: int


def meter_key_params(meter: Meter) -> MeterKeyParams:
    return MeterKeyParams(
        meter_number=meter.number,
        iin=meter.iin,
        key_type=meter.key_type,
        supply_group_code=meter.supply_group_code,
        tariff_index=meter.tariff_index,
        key_revision=meter.key_revision,
    )


def _view(purchase: Purchase) -> PurchaseView:
    return PurchaseView(
        status=purchase.status,
        reference=purchase.reference,
        biller_reference=purchase.biller_reference,
        token=purchase.token,
        kwh=None if purchase.carried_tenths is None else str(tenths_to_kwh(purchase.carried_tenths)),
        issued_at=None if purchase.issued_at is None else _aware(purchase.issued_at).isoformat(),
        code=purchase.code,
        message=purchase.message or "",
    )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time we store is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class BillerService:
    def __init__(
        self,
        db: Database,
        vending_key: bytes,
        *,
        faults: FaultBoard | None = None,
        clock: Clock = utc_now,
        timeout_fault_seconds: float = 90.0,
    ) -> None:
        self._db = db
        self._vending_key = vending_key
        self.faults = faults or FaultBoard()
        self._clock = clock
        self._timeout_fault_seconds = timeout_fault_seconds
        self._sqlite_lock = asyncio.Lock() if db.is_sqlite else None
        self._decoder_keys: dict[MeterKeyParams, int] = {}

    def __repr__(self) -> str:  # never show the key
        return f"<BillerService db={self._db.url.get_backend_name()}>"

    # -- plumbing ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        if self._sqlite_lock is None:
            async with self._db.transaction() as session:
                yield session
        else:
            async with self._sqlite_lock, self._db.transaction() as session:
                yield session

    def _now(self) -> datetime:
        return _aware(self._clock()).astimezone(UTC)

    def decoder_key(self, meter: Meter) -> int:
        params = meter_key_params(meter)
        key = self._decoder_keys.get(params)
        if key is None:
            key = self._decoder_keys[params] = derive_decoder_key(self._vending_key, params)
        return key

    async def _locked_meter(self, session: AsyncSession, number: str) -> Meter | None:
        statement = select(Meter).where(Meter.number == number).with_for_update()
        return (await session.execute(statement)).scalar_one_or_none()

    def _allocate_tid(self, meter: Meter, now: datetime) -> int:
        """The next TID for a locked meter row: now's minute, or one past the last if taken."""
        try:
            tid = tid_for(now, base_date_for_year(meter.base_date))
        except KeyChangeRequired as exc:
            raise KeyChangeNeeded(str(exc)) from None
        if meter.last_tid is not None and tid <= meter.last_tid:
            tid = meter.last_tid + 1
        if tid > MAX_TID:
            raise KeyChangeNeeded("the meter has used every TID of its base date; it needs a key change")
        meter.last_tid = tid
        return tid

    async def _issue(
        self, session: AsyncSession, purchase: Purchase, now: datetime, *, meter: Meter | None = None
    ) -> None:
        """Turn a purchase into SUCCESS with a fresh token (or FAILED if impossible). ``meter``: the
        row the caller already locked in this transaction (else it is locked here)."""
        if meter is None:
            meter = await self._locked_meter(session, purchase.meter_number)
        if meter is None:  # deleted from the register while pending
            self._fail(purchase, "UNKNOWN_METER", "the meter is not in the register", now)
            return
        try:
            tid = self._allocate_tid(meter, now)
        except KeyChangeNeeded as exc:
            self._fail(purchase, "KEY_CHANGE_REQUIRED", str(exc), now)
            return
        issued = credit_token(
            self.decoder_key(meter),
            purchase.kwh_tenths,
            tid=tid,
            base=base_date_for_year(meter.base_date),
        )
        purchase.status = PurchaseStatus.SUCCESS
        purchase.token = issued.token
        purchase.tid = tid
        purchase.carried_tenths = decode_amount(issued.value)
        purchase.issued_at = now
        purchase.code = None
        purchase.message = "token issued"
        purchase.updated_at = now
        logger.info(
            "issued token reference=%s meter=%s tid=%s kwh=%s",
            purchase.reference, meter.number, tid, tenths_to_kwh(purchase.carried_tenths),
        )  # fmt: skip

    @staticmethod
    def _fail(purchase: Purchase, code: str, message: str, now: datetime) -> None:
        purchase.status = PurchaseStatus.FAILED
        purchase.code = code
        purchase.message = message
        purchase.updated_at = now
        logger.info("purchase failed reference=%s meter=%s code=%s", purchase.reference, purchase.meter_number, code)

    async def _answer(self, session: AsyncSession, purchase: Purchase) -> PurchaseView:
        """The stored outcome; a PENDING purchase counts down its remaining PENDING answers."""
        if purchase.status == PurchaseStatus.PENDING:
            now = self._now()
            if purchase.pending_answers_left > 0:
                purchase.pending_answers_left -= 1
                purchase.updated_at = now
            else:
                await self._issue(session, purchase, now)
        return _view(purchase)

    async def _sleep_for(self, fault: Fault | None) -> None:
        if fault is not None and fault.mode == "delay" and fault.delay_ms > 0:
            await asyncio.sleep(fault.delay_ms / 1000)

    # -- public API -------------------------------------------------------------------------

    async def purchase(
        self, reference: str, meter_number: str, kwh_tenths: int, amount: Decimal
    ) -> PurchaseView:
        """Sell a credit token once per reference (see the module docstring)."""
        if not 1 <= kwh_tenths <= MAX_TENTHS:
            raise ValueError(f"kwhTenths must be between 1 and {MAX_TENTHS}")
        encode_tenths(kwh_tenths)  # validates the amount field early
        fault = self.faults.for_meter(meter_number)
        await self._sleep_for(fault)
        for attempt in (1, 2):
            try:
                view, fresh = await self._purchase_once(reference, meter_number, kwh_tenths, amount, fault)
                break
            except IntegrityError:
                # Another request inserted the same reference first (PostgreSQL); replay it.
                if attempt == 2:
                    raise
        if fresh and fault is not None and fault.mode == "timeout":
            # The token is sold and stored; the answer just never arrives in time.
            await asyncio.sleep(self._timeout_fault_seconds)
        return view

    async def _purchase_once(
        self, reference: str, meter_number: str, kwh_tenths: int, amount: Decimal, fault: Fault | None
    ) -> tuple[PurchaseView, bool]:
        async with self._write() as session:
            existing = (
                await session.execute(select(Purchase).where(Purchase.reference == reference).with_for_update())
            ).scalar_one_or_none()
            if existing is not None:
                if (
                    existing.meter_number != meter_number
                    or existing.kwh_tenths != kwh_tenths
                    or Decimal(existing.amount) != amount
                ):
                    raise DuplicateReference(reference)
                return await self._answer(session, existing), False

            now = self._now()
            purchase = Purchase(
                reference=reference,
                biller_reference="SB" + uuid.uuid4().hex[:20].upper(),
                meter_number=meter_number,
                kwh_tenths=kwh_tenths,
                amount=str(amount),
                status=PurchaseStatus.PENDING,
                message="waiting for the token",
                pending_answers_left=0,
                created_at=now,
                updated_at=now,
            )
            meter = await self._locked_meter(session, meter_number)
            mode = fault.mode if fault is not None else "none"
            if meter is None:
                self._fail(purchase, "UNKNOWN_METER", "wrong customer number: the meter is not registered", now)
            elif meter.status != "ACTIVE":
                self._fail(purchase, "METER_BLOCKED", "the meter is blocked", now)
            elif mode == "maintenance":
                self._fail(purchase, "BILLER_MAINTENANCE", "the biller is in maintenance (cut-off)", now)
            elif mode == "fail":
                self._fail(purchase, "BILLER_FAILED", "the biller could not issue the token", now)
            elif mode == "pending_then_success":
                assert fault is not None
                # This answer is the first of `pending_polls` PENDING answers.
                purchase.pending_answers_left = max(fault.pending_polls, 1) - 1
            else:
                await self._issue(session, purchase, now, meter=meter)
            # Inserted in its final state (one INSERT, no INSERT-then-UPDATE); a concurrent insert of
            # the same reference still fails here, inside the transaction that holds the meter's TID.
            session.add(purchase)
            await session.flush()
            return _view(purchase), True

    async def status(self, reference: str) -> PurchaseView | None:
        """The outcome for a reference, or None if it was never seen."""
        async with self._db.session() as session:
            found = (
                await session.execute(select(Purchase).where(Purchase.reference == reference))
            ).scalar_one_or_none()
        if found is None:
            return None
        await self._sleep_for(self.faults.for_meter(found.meter_number))
        if found.status != PurchaseStatus.PENDING:
            return _view(found)
        async with self._write() as session:
            purchase = (
                await session.execute(select(Purchase).where(Purchase.reference == reference).with_for_update())
            ).scalar_one()
            return await self._answer(session, purchase)

    async def management_token(
        self, meter_number: str, kind: str, value: int | None
    ) -> IssuedManagementToken:
        """A class 2 token; raises UnknownMeter, KeyChangeNeeded or ValueError (bad kind/value)."""
        try:
            management_kind = ManagementKind[kind]
        except KeyError:
            raise ValueError("kind must be SET_MAX_POWER, CLEAR_CREDIT or CLEAR_TAMPER") from None
        # Validate the value before spending a TID.
        management_token(0, management_kind, value, tid=0)
        async with self._write() as session:
            meter = await self._locked_meter(session, meter_number)
            if meter is None:
                raise UnknownMeter(meter_number)
            now = self._now()
            tid = self._allocate_tid(meter, now)
            issued = management_token(
                self.decoder_key(meter), management_kind, value, tid=tid, base=base_date_for_year(meter.base_date)
            )
            session.add(
                ManagementToken(
                    meter_number=meter_number, kind=kind, value=value, token=issued.token, tid=tid, issued_at=now
                )
            )
            logger.info("issued management token meter=%s kind=%s tid=%s", meter_number, kind, tid)
        return IssuedManagementToken(issued.token, now, tid)

    async def find_meter(self, number: str) -> Meter | None:
        async with self._db.session() as session:
            return await session.get(Meter, number)
