"""What the biller does: sell tokens idempotently, allocate TIDs, obey the fault switches.

Rules that matter for money:

- **One token per reference.** The reference is unique in the database; a replay returns the
  stored outcome, a replay with another meter or amount is a :class:`DuplicateReference`.
- **TIDs per meter strictly increase**, across concurrent requests, restarts and billers
  sharing one PostgreSQL: the TID is ``max(now's minute, last TID + 1)``, taken by one
  conditional ``UPDATE … RETURNING`` of the meter row (which holds its row lock until commit;
  SQLite serialises writers with ``BEGIN IMMEDIATE``, plus an in-process lock so writers queue
  instead of busy-waiting). On SQLite ``last_tid`` is written in the same transaction as the
  purchase; on PostgreSQL the fresh sale's two statements commit alone (see below).
- **The vending key stays in memory.** Decoder keys are derived on demand.
- **Key changes ride on a sale.** A meter whose base date has run out of TIDs, or for which the
  utility ordered a new key revision / supply group / tariff index, gets the key change pair
  (:mod:`sts.keychange`, made under its old key) with its next credit token (made under the new
  key); the register switches to the new key in the same transaction, under the meter row lock,
  so exactly one sale carries the pair (a reprint returns it again).

Why Core statements built once at import, run in one greenlet per transaction: a purchase is
the hot path of the whole system. On SQLite a fresh sale is ``BEGIN``, the TID ``UPDATE …
RETURNING``, an ``INSERT … ON CONFLICT (reference) DO NOTHING RETURNING id`` of the purchase in
its final state, ``COMMIT``; no ORM unit of work, no read before the write. When the insert meets
an existing reference the transaction is rolled back (the TID with it) and the stored outcome is
answered from a second transaction: replays are rare, fresh sales are not.

On PostgreSQL the same two statements run in autocommit, each atomic by itself: two round trips
instead of four, and the meter row is locked for one statement instead of a whole transaction.
The price is that a TID can be spent without a token stored (a replay that tries to sell first, or
a crash between the two statements). STS meters accept gaps between TIDs (they refuse only a TID
not above the oldest they remember), so a skipped TID costs nothing; a TID is still never issued
twice, and a token is still stored before it is answered.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from setrum_common.clock import as_utc, utc_now
from setrum_common.db import Database
from sts.amount import MAX_TENTHS, decode_amount, encode_tenths, tenths_to_kwh
from sts.keychange import KeyChange, key_change_tokens
from sts.keys import MeterKeyParams, derive_decoder_key
from sts.tid import (
    BASE_1993,
    BASE_2014,
    MAX_TID,
    KeyChangeRequired,
    base_date_for_year,
    base_rollover,
    next_base_date,
    tid_for,
)
from sts.tokens import ManagementKind, credit_token, management_token

from .energy import BillerTariff, EnergyMismatch, SaleFigures, sold_tenths, tariff_for
from .faults import Fault, FaultBoard
from .models import BillerKeyChangeOrder, BillerManagementToken, BillerMeter, BillerPurchase, BillerPurchaseStatus

__all__ = [
    "BillerService",
    "Clock",
    "DuplicateReference",
    "IssuedManagementToken",
    "KeyChangeNeeded",
    "KeyChangePlan",
    "MeterState",
    "PurchaseView",
    "UnknownMeter",
    "meter_key_params",
]

logger = logging.getLogger("setrum.biller")

Clock = Callable[[], datetime]
_T = TypeVar("_T")


class DuplicateReference(Exception):
    """The reference was already used for another meter or amount."""


class UnknownMeter(LookupError):
    pass


class KeyChangeNeeded(Exception):
    """The meter's base date cannot express the current time any more."""


class _AlreadyStored(Exception):
    """The reference is in the database already: roll back and answer the stored outcome."""


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
    key_change_tokens: tuple[str, ...] | None = None  # entered, in this order, before the token
    amount: str | None = None  # the nominal the seller asked for (settlement lists it)

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
            "keyChangeTokens": list(self.key_change_tokens) if self.key_change_tokens else None,
        }


@dataclass(frozen=True, slots=True)
class IssuedManagementToken:
    token: str
    issued_at: datetime
    tid: int


class MeterKeyFacts(Protocol):
    """What key derivation needs of a meter: a :class:`Meter` or a row of its key columns."""

    number: str
    iin: str
    key_type: int
    supply_group_code: str
    tariff_index: str
    key_revision: int


def meter_key_params(meter: MeterKeyFacts) -> MeterKeyParams:
    return MeterKeyParams(
        meter_number=meter.number,
        iin=meter.iin,
        key_type=meter.key_type,
        supply_group_code=meter.supply_group_code,
        tariff_index=meter.tariff_index,
        key_revision=meter.key_revision,
    )


def _view(purchase: Mapping[str, Any]) -> PurchaseView:
    carried = purchase["carried_tenths"]
    issued_at = purchase["issued_at"]
    pair = purchase["key_change_tokens"]
    return PurchaseView(
        amount=purchase["amount"],
        key_change_tokens=tuple(pair.split()) if pair else None,
        status=purchase["status"],
        reference=purchase["reference"],
        biller_reference=purchase["biller_reference"],
        token=purchase["token"],
        kwh=None if carried is None else str(tenths_to_kwh(carried)),
        issued_at=None if issued_at is None else as_utc(issued_at).isoformat(),
        code=purchase["code"],
        message=purchase["message"] or "",
    )


# -- statements, built once ----------------------------------------------------------------
# Bound parameter names start with "b_" where a column of the same name is written: a key that
# names a column would be taken as a SET value by UPDATE.

_meter = BillerMeter.__table__
_purchase = BillerPurchase.__table__
_management = BillerManagementToken.__table__
_key_change_order = BillerKeyChangeOrder.__table__

_KEY_COLUMNS = (
    _meter.c.number, _meter.c.iin, _meter.c.key_type, _meter.c.supply_group_code,
    _meter.c.tariff_index, _meter.c.key_revision, _meter.c.base_date,
    _meter.c.new_key_revision, _meter.c.new_supply_group_code, _meter.c.new_tariff_index,
)  # fmt: skip

# Now's minute on the meter's base date (NULL when the base cannot express it: key change, or
# a base we don't know), then max(that, last TID + 1).
_minute_tid = case(
    (_meter.c.base_date == 2014, bindparam("tid_2014", type_=Integer)),
    (_meter.c.base_date == 1993, bindparam("tid_1993", type_=Integer)),
)
_next_tid = case((_meter.c.last_tid >= _minute_tid, _meter.c.last_tid + 1), else_=_minute_tid)

# The TID of an ACTIVE meter, taken under the row lock. No row back: unknown, blocked, out of
# TIDs, a key change ordered or an odd base date; _locked_meter then tells which (the rare path).
_TAKE_TID = (
    update(_meter)
    .where(
        _meter.c.number == bindparam("b_number"),
        _meter.c.status == "ACTIVE",
        _meter.c.new_key_revision.is_(None),
        _next_tid <= MAX_TID,
    )
    .values(last_tid=_next_tid, updated_at=func.now())
    .returning(*_KEY_COLUMNS, _meter.c.last_tid)
)
_SELECT_METER = select(*_KEY_COLUMNS, _meter.c.status, _meter.c.last_tid).where(
    _meter.c.number == bindparam("b_number")
)
_LOCK_METER = _SELECT_METER.with_for_update()
_SET_LAST_TID = (
    update(_meter)
    .where(_meter.c.number == bindparam("b_number"))
    .values(last_tid=bindparam("b_tid", type_=Integer), updated_at=func.now())
)
_SET_KEY = (
    update(_meter)
    .where(_meter.c.number == bindparam("b_number"))
    .values(
        supply_group_code=bindparam("b_sgc"), tariff_index=bindparam("b_ti"),
        key_revision=bindparam("b_krn", type_=Integer), base_date=bindparam("b_base", type_=Integer),
        last_tid=bindparam("b_last_tid", type_=Integer),
        new_key_revision=None, new_supply_group_code=None, new_tariff_index=None, updated_at=func.now(),
    )
)  # fmt: skip

_PURCHASE_COLUMNS = [c for c in _purchase.c]
_SELECT_PURCHASE = select(*_PURCHASE_COLUMNS).where(_purchase.c.reference == bindparam("b_reference"))
_LOCK_PURCHASE = _SELECT_PURCHASE.with_for_update()
_UPDATE_PURCHASE = update(_purchase).where(_purchase.c.id == bindparam("b_id"))  # SET: the keys given
# Inserted in its final state (one INSERT, no INSERT-then-UPDATE); a concurrent insert of the
# same reference waits for ours (PostgreSQL) and then inserts nothing.
_INSERT_PURCHASE = {
    dialect: insert_for(_purchase).on_conflict_do_nothing(index_elements=["reference"]).returning(_purchase.c.id)
    for dialect, insert_for in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_INSERT_MANAGEMENT = insert(_management)

_ISSUING_MODES = frozenset({"none", "delay", "timeout"})
_MINUTE = timedelta(minutes=1)
_MINUTES_1993_TO_2014 = (BASE_2014 - BASE_1993) // _MINUTE


def _minute_tids(now: datetime) -> dict[str, int | None]:
    """``tid_1993``/``tid_2014`` for :data:`_TAKE_TID`: now's minute on each base (as
    :func:`sts.tid.tid_for` counts it), or None where that base cannot express it."""
    minutes = (now - BASE_2014) // _MINUTE
    tid_2014 = minutes if 0 <= minutes <= MAX_TID else None
    minutes += _MINUTES_1993_TO_2014
    return {"tid_1993": minutes if 0 <= minutes <= MAX_TID else None, "tid_2014": tid_2014}


def _allocate_tid(base_date: int, last_tid: int | None, now: datetime) -> int:
    """The next TID for a locked meter row: now's minute, or one past the last if taken."""
    try:
        tid = tid_for(now, base_date_for_year(base_date))
    except KeyChangeRequired as exc:
        raise KeyChangeNeeded(str(exc)) from None
    except ValueError:  # a base date still in the future: no key can carry now's minute
        raise KeyChangeNeeded(f"base date {base_date} cannot express {now:%Y-%m-%d %H:%M} UTC yet") from None
    if last_tid is not None and tid <= last_tid:
        tid = last_tid + 1
    if tid > MAX_TID:
        raise KeyChangeNeeded("the meter has used every TID of its base date; it needs a key change")
    return tid


@dataclass(frozen=True, slots=True)
class KeyChangePlan:
    """The key a meter moves to at its next sale, and why."""

    supply_group_code: str
    tariff_index: str
    key_revision: int
    base_date: int
    rollover: bool  # a new base date: the meter forgets its TIDs
    reason: str


@dataclass(frozen=True, slots=True)
class MeterState:
    """What a seller needs to know about a meter before it sells (``GET /v1/meters/{number}``)."""

    number: str
    status: str
    base_date: int
    key_revision: int
    key_change: KeyChangePlan | None

    def to_json(self) -> dict[str, Any]:
        change = self.key_change
        return {
            "meterNumber": self.number,
            "status": self.status,
            "baseDate": self.base_date,
            "keyRevision": self.key_revision,
            "keyChangeRequired": change is not None,
            "keyChange": None
            if change is None
            else {"reason": change.reason, "keyRevision": change.key_revision, "baseDate": change.base_date},
        }


@dataclass(slots=True)
class _MeterKey:
    """A meter's key columns after a key change (what :meth:`BillerService.decoder_key` and
    :meth:`BillerService._issue` read of a row)."""

    number: str
    iin: str
    key_type: int
    supply_group_code: str
    tariff_index: str
    key_revision: int
    base_date: int


def _next_revision(krn: int) -> int:
    return krn % 9 + 1  # key revisions run 1..9, then start again


def key_change_plan(meter: Any, now: datetime) -> KeyChangePlan | None:
    """The key change a meter row needs before its next token, or None.

    Ordered by the utility (``new_*`` columns) or forced by the base date: when now's minute, or
    the TID after the last one issued, no longer fits its 24 bits, the meter moves to the next base
    date with the next key revision (the rollover bit tells it to forget its TIDs)."""
    base = base_date_for_year(meter.base_date)
    out_of_tids = now >= base_rollover(base) or (meter.last_tid is not None and meter.last_tid >= MAX_TID)
    ordered = meter.new_key_revision is not None
    if not (ordered or out_of_tids):
        return None
    if ordered:
        reason = "the utility ordered a new decoder key"
        revision = meter.new_key_revision
    else:
        reason = f"base date {meter.base_date} ran out of token identifiers on {base_rollover(base):%Y-%m-%d %H:%M} UTC"
        revision = _next_revision(meter.key_revision)
    return KeyChangePlan(
        supply_group_code=meter.new_supply_group_code or meter.supply_group_code,
        tariff_index=meter.new_tariff_index or meter.tariff_index,
        key_revision=revision,
        base_date=next_base_date(meter.base_date) if out_of_tids else meter.base_date,
        rollover=out_of_tids,
        reason=reason,
    )


def _read(conn: Connection, statement: Any, parameters: dict[str, Any]) -> Any:
    return conn.execute(statement, parameters).first()


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
        self._insert_purchase = _INSERT_PURCHASE[db.engine.dialect.name]
        self._decoder_keys: dict[tuple[Any, ...], int] = {}
        # Meter number -> (tariff code, power VA): read once per process, the register rarely changes.
        self._meter_tariffs: dict[str, tuple[str | None, int | None]] = {}

    def __repr__(self) -> str:  # never show the key
        return f"<BillerService db={self._db.url.get_backend_name()}>"

    # -- plumbing ---------------------------------------------------------------------------

    async def _write(self, work: Callable[..., _T], *args: Any) -> _T:
        """``work(connection, *args)`` — plain synchronous Core code — in one write transaction,
        committed unless it raises, all in one greenlet (:meth:`Database.run`)."""
        return await self._db.run(work, *args, write=True)

    def _now(self) -> datetime:
        return as_utc(self._clock())

    def decoder_key(self, meter: MeterKeyFacts) -> int:
        cache_key = (
            meter.number, meter.iin, meter.key_type, meter.supply_group_code, meter.tariff_index, meter.key_revision,
        )  # fmt: skip
        key = self._decoder_keys.get(cache_key)
        if key is None:
            key = self._decoder_keys[cache_key] = derive_decoder_key(self._vending_key, meter_key_params(meter))
        return key

    def _issue(self, purchase: dict[str, Any], now: datetime, meter: Any, tid: int) -> None:
        """Make ``purchase`` SUCCESS with a fresh token for ``tid``, already taken on ``meter``."""
        issued = credit_token(
            self.decoder_key(meter), purchase["kwh_tenths"], tid=tid, base=base_date_for_year(meter.base_date)
        )
        carried = decode_amount(issued.value)
        purchase.update(
            status=BillerPurchaseStatus.SUCCESS, token=issued.token, tid=tid, carried_tenths=carried, issued_at=now,
            code=None, message="token issued", updated_at=now,
        )  # fmt: skip

    @staticmethod
    def _fail(purchase: dict[str, Any], code: str, message: str, now: datetime) -> None:
        purchase.update(status=BillerPurchaseStatus.FAILED, code=code, message=message, updated_at=now)

    @staticmethod
    def _settled(purchase: Mapping[str, Any]) -> PurchaseView:
        """Log an outcome decided by a committed transaction (never one rolled back), and show it."""
        if purchase["status"] == BillerPurchaseStatus.SUCCESS:
            logger.info(
                "issued token reference=%s meter=%s tid=%s kwh=%s",
                purchase["reference"], purchase["meter_number"], purchase["tid"],
                tenths_to_kwh(purchase["carried_tenths"]),
            )  # fmt: skip
        elif purchase["status"] == BillerPurchaseStatus.FAILED:
            logger.info(
                "purchase failed reference=%s meter=%s code=%s",
                purchase["reference"], purchase["meter_number"], purchase["code"],
            )  # fmt: skip
        return _view(purchase)

    @staticmethod
    def _locked_meter(conn: Connection, number: str) -> Any:
        return conn.execute(_LOCK_METER, {"b_number": number}).first()

    def _take_tid(self, conn: Connection, meter: Any, now: datetime) -> int:
        """Allocate the next TID on a meter row locked by :meth:`_locked_meter` (the slow path)."""
        tid = _allocate_tid(meter.base_date, meter.last_tid, now)
        conn.execute(_SET_LAST_TID, {"b_number": meter.number, "b_tid": tid})
        return tid

    @staticmethod
    def _new_purchase(
        reference: str, meter_number: str, kwh_tenths: int, amount: Decimal, now: datetime
    ) -> dict[str, Any]:
        """A purchase row not yet decided (PENDING, no token), with a fresh biller reference."""
        return {
            "reference": reference, "biller_reference": "SB" + uuid.uuid4().hex[:20].upper(),
            "meter_number": meter_number, "kwh_tenths": kwh_tenths, "amount": str(amount),
            "status": BillerPurchaseStatus.PENDING, "token": None, "tid": None, "carried_tenths": None,
            "issued_at": None, "code": None, "message": "waiting for the token", "pending_answers_left": 0,
            "key_change_tokens": None,
            "created_at": now, "updated_at": now,
        }  # fmt: skip

    async def _sell_once(
        self, reference: str, meter_number: str, kwh_tenths: int, amount: Decimal, fault: Fault | None
    ) -> dict[str, Any]:
        """A new sale, stored in its final state; :class:`_AlreadyStored` if the reference exists."""
        if self._db.is_sqlite:
            return await self._write(self._sell, reference, meter_number, kwh_tenths, amount, fault)
        return await self._sell_alone(reference, meter_number, kwh_tenths, amount, fault)

    async def _sell_alone(
        self, reference: str, meter_number: str, kwh_tenths: int, amount: Decimal, fault: Fault | None
    ) -> dict[str, Any]:
        """A new sale on PostgreSQL (see the module docstring): the TID and the insert in autocommit;
        anything but an ACTIVE meter with a TID to give takes :meth:`_sell`, in one transaction."""
        if fault is not None and fault.mode not in _ISSUING_MODES:
            return await self._write(self._sell, reference, meter_number, kwh_tenths, amount, fault)
        now = self._now()
        taken = await self._db.run(
            _read, _TAKE_TID, {"b_number": meter_number, **_minute_tids(now)}, write=True, one_statement=True
        )
        if taken is None:
            return await self._write(self._sell, reference, meter_number, kwh_tenths, amount, fault, False)
        purchase = self._new_purchase(reference, meter_number, kwh_tenths, amount, now)
        self._issue(purchase, now, taken, taken.last_tid)
        if await self._db.run(_read, self._insert_purchase, purchase, write=True, one_statement=True) is None:
            raise _AlreadyStored(reference)  # its TID stays spent: a gap the meter accepts
        return purchase

    def _sell(
        self,
        conn: Connection,
        reference: str,
        meter_number: str,
        kwh_tenths: int,
        amount: Decimal,
        fault: Fault | None,
        try_hot_path: bool = True,
    ) -> dict[str, Any]:
        """A new sale in one transaction, stored in its final state; :class:`_AlreadyStored` if the
        reference exists. ``try_hot_path`` False: the TID ``UPDATE`` was just tried and found no row."""
        now = self._now()
        purchase = self._new_purchase(reference, meter_number, kwh_tenths, amount, now)
        mode = fault.mode if fault is not None else "none"
        taken = None
        if try_hot_path and mode in _ISSUING_MODES:  # the hot path: take the TID straight away
            taken = conn.execute(_TAKE_TID, {"b_number": meter_number, **_minute_tids(now)}).first()
        if taken is not None:
            self._issue(purchase, now, taken, taken.last_tid)
        else:
            meter = self._locked_meter(conn, meter_number)
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
                purchase["pending_answers_left"] = max(fault.pending_polls, 1) - 1
            else:
                self._issue_or_fail(conn, purchase, meter, now)
        if conn.execute(self._insert_purchase, purchase).first() is None:
            raise _AlreadyStored(reference)  # rolls back the TID taken above
        return purchase

    def _issue_or_fail(self, conn: Connection, purchase: dict[str, Any], meter: Any, now: datetime) -> None:
        """The token on the meter's next TID, after the key change pair when the meter needs one;
        FAILED with KEY_CHANGE_REQUIRED only when not even a new key can express now's minute."""
        try:
            plan = key_change_plan(meter, now)
            if plan is None:
                tid = self._take_tid(conn, meter, now)
            else:
                meter, tid, pair = self._change_key(conn, meter, plan, now)
                purchase["key_change_tokens"] = " ".join(pair)
        except KeyChangeNeeded as exc:
            self._fail(purchase, "KEY_CHANGE_REQUIRED", str(exc), now)
        else:
            self._issue(purchase, now, meter, tid)

    def _change_key(
        self, conn: Connection, meter: Any, plan: KeyChangePlan, now: datetime
    ) -> tuple[_MeterKey, int, tuple[str, str]]:
        """Make the key change pair under the meter's current key and move the register row to the
        new key with the TID of the token that follows (one write, row locked, same transaction).
        Raises :class:`KeyChangeNeeded` before writing anything if the new key has no TID for now."""
        tid = _allocate_tid(plan.base_date, None if plan.rollover else meter.last_tid, now)
        new = _MeterKey(
            number=meter.number, iin=meter.iin, key_type=meter.key_type,
            supply_group_code=plan.supply_group_code, tariff_index=plan.tariff_index,
            key_revision=plan.key_revision, base_date=plan.base_date,
        )  # fmt: skip
        change = KeyChange(
            self.decoder_key(new), key_revision=new.key_revision, key_type=new.key_type,
            tariff_index=new.tariff_index, rollover=plan.rollover,
        )  # fmt: skip
        pair = key_change_tokens(self.decoder_key(meter), change)
        conn.execute(
            _SET_KEY,
            {"b_number": meter.number, "b_sgc": new.supply_group_code, "b_ti": new.tariff_index,
             "b_krn": new.key_revision, "b_base": new.base_date, "b_last_tid": tid},
        )  # fmt: skip
        logger.info(
            "key change meter=%s krn=%s->%s base=%s->%s (%s)",
            meter.number, meter.key_revision, new.key_revision, meter.base_date, new.base_date, plan.reason,
        )  # fmt: skip
        return new, tid, pair

    def _replay(
        self, conn: Connection, reference: str, meter_number: str, kwh_tenths: int, amount: Decimal
    ) -> tuple[dict[str, Any], bool] | None:
        row = conn.execute(_LOCK_PURCHASE, {"b_reference": reference}).first()
        if row is None:
            return None
        if row.meter_number != meter_number or row.kwh_tenths != kwh_tenths or Decimal(row.amount) != amount:
            raise DuplicateReference(reference)
        return self._answer(conn, row)

    def _answer(self, conn: Connection, row: Any) -> tuple[dict[str, Any], bool]:
        """The stored outcome, and whether it was settled just now: a PENDING purchase counts
        down its remaining PENDING answers, then gets its token."""
        purchase = dict(row._mapping)
        if purchase["status"] != BillerPurchaseStatus.PENDING:
            return purchase, False
        now = self._now()
        before = dict(purchase)
        if purchase["pending_answers_left"] > 0:
            purchase.update(pending_answers_left=purchase["pending_answers_left"] - 1, updated_at=now)
        else:
            meter = self._locked_meter(conn, purchase["meter_number"])
            if meter is None:  # deleted from the register while pending
                self._fail(purchase, "UNKNOWN_METER", "the meter is not in the register", now)
            else:
                self._issue_or_fail(conn, purchase, meter, now)
        changes = {k: v for k, v in purchase.items() if v != before[k]}
        conn.execute(_UPDATE_PURCHASE, {"b_id": purchase["id"], **changes})
        return purchase, purchase["status"] != BillerPurchaseStatus.PENDING

    async def _sleep_for(self, fault: Fault | None) -> None:
        if fault is not None and fault.mode == "delay" and fault.delay_ms > 0:
            await asyncio.sleep(fault.delay_ms / 1000)

    # -- public API -------------------------------------------------------------------------

    async def _tariff_of(self, meter_number: str) -> BillerTariff | None:
        """The meter's tariff; None for a meter not in the register (its sale fails UNKNOWN_METER)."""
        known = self._meter_tariffs.get(meter_number)
        if known is None:
            statement = select(_meter.c.tariff_code, _meter.c.power_va).where(_meter.c.number == meter_number)
            row = await self._db.run(_read, statement, {}, one_statement=True)
            if row is None:
                return None
            known = self._meter_tariffs[meter_number] = (row.tariff_code, row.power_va)
        code, power_va = known
        tariff = None if code is None or power_va is None else tariff_for(code, power_va)
        if tariff is None:
            raise EnergyMismatch("TARIFF_UNKNOWN", "the biller knows no tariff for this meter")
        return tariff

    async def purchase(
        self, reference: str, meter_number: str, kwh_tenths: int, figures: SaleFigures | Decimal
    ) -> PurchaseView:
        """Sell a credit token once per reference (see the module docstring). The energy sold is the
        biller's own price of ``figures`` (:mod:`biller.energy`); a request expecting other kWh is
        refused with :class:`EnergyMismatch` before anything is stored."""
        if not isinstance(figures, SaleFigures):
            figures = SaleFigures(figures)
        amount = figures.amount
        if not 1 <= kwh_tenths <= MAX_TENTHS:
            raise ValueError(f"kwhTenths must be between 1 and {MAX_TENTHS}")
        tariff = await self._tariff_of(meter_number)
        if tariff is not None:
            own = sold_tenths(tariff, figures)
            if own != kwh_tenths:
                raise EnergyMismatch(
                    "KWH_MISMATCH", f"the amount buys {Decimal(own) / 10} kWh at tariff {tariff.code}, not that"
                )
        encode_tenths(kwh_tenths)  # validates the amount field early
        fault = self.faults.for_meter(meter_number)
        await self._sleep_for(fault)
        for attempt in (1, 2):
            try:
                stored = await self._sell_once(reference, meter_number, kwh_tenths, amount, fault)
            except _AlreadyStored:
                replayed = await self._write(self._replay, reference, meter_number, kwh_tenths, amount)
                if replayed is not None:
                    purchase, settled_now = replayed
                    return self._settled(purchase) if settled_now else _view(purchase)
            except IntegrityError:
                # A biller reference collided (astronomically unlikely); a new one is drawn.
                if attempt == 2:
                    raise
            else:
                view = self._settled(stored)
                if fault is not None and fault.mode == "timeout":
                    # The token is sold and stored; the answer just never arrives in time.
                    await asyncio.sleep(self._timeout_fault_seconds)
                return view
        raise RuntimeError(f"could not store or find the purchase {reference!r}")

    async def status(self, reference: str) -> PurchaseView | None:
        """The outcome for a reference, or None if it was never seen."""
        found = await self._db.run(_read, _SELECT_PURCHASE, {"b_reference": reference}, one_statement=True)
        if found is None:
            return None
        await self._sleep_for(self.faults.for_meter(found.meter_number))
        if found.status != BillerPurchaseStatus.PENDING:
            return _view(found._mapping)
        purchase, settled_now = await self._write(self._locked_answer, reference)
        return self._settled(purchase) if settled_now else _view(purchase)

    def _locked_answer(self, conn: Connection, reference: str) -> tuple[dict[str, Any], bool]:
        return self._answer(conn, conn.execute(_LOCK_PURCHASE, {"b_reference": reference}).one())

    async def management_token(
        self, meter_number: str, kind: str, value: int | None, reference: str
    ) -> IssuedManagementToken:
        """A class 2 token, once per ``reference`` (a retry answers the stored token and spends no
        TID); raises UnknownMeter, KeyChangeNeeded, DuplicateReference (the reference names another
        request) or ValueError (bad kind/value)."""
        try:
            management_kind = ManagementKind[kind]
        except KeyError:
            raise ValueError("kind must be SET_MAX_POWER, CLEAR_CREDIT or CLEAR_TAMPER") from None
        # Validate the value before spending a TID.
        management_token(0, management_kind, value, tid=0)
        try:
            return await self._write(self._issue_management, meter_number, management_kind, value, reference)
        except IntegrityError:  # the reference is another meter's (whose row lock we did not hold)
            raise DuplicateReference(reference) from None

    def _issue_management(
        self, conn: Connection, meter_number: str, kind: ManagementKind, value: int | None, reference: str
    ) -> IssuedManagementToken:
        meter = self._locked_meter(conn, meter_number)
        if meter is None:
            raise UnknownMeter(meter_number)
        # Under the meter's row lock: a concurrent retry of the same request waits here, then finds it.
        stored = conn.execute(select(_management).where(_management.c.reference == reference)).first()
        if stored is not None:
            if (stored.meter_number, stored.kind, stored.value) != (meter_number, kind.name, value):
                raise DuplicateReference(reference)
            return IssuedManagementToken(stored.token, as_utc(stored.issued_at), stored.tid)
        now = self._now()
        plan = key_change_plan(meter, now)
        if plan is not None:
            raise KeyChangeNeeded(f"{plan.reason}: the meter needs its key change tokens first (sold with a purchase)")
        tid = self._take_tid(conn, meter, now)
        issued = management_token(
            self.decoder_key(meter), kind, value, tid=tid, base=base_date_for_year(meter.base_date)
        )
        conn.execute(
            _INSERT_MANAGEMENT,
            {"meter_number": meter_number, "kind": kind.name, "value": value, "token": issued.token,
             "tid": tid, "issued_at": now, "reference": reference},
        )  # fmt: skip
        logger.info("issued management token meter=%s kind=%s tid=%s", meter_number, kind.name, tid)
        return IssuedManagementToken(issued.token, now, tid)

    async def meter_state(self, number: str) -> MeterState | None:
        """The meter's status and the key change its next sale will carry, if any."""
        row = await self._db.run(_read, _SELECT_METER, {"b_number": number}, one_statement=True)
        if row is None:
            return None
        return MeterState(row.number, row.status, row.base_date, row.key_revision, key_change_plan(row, self._now()))

    async def sales_of_day(
        self, start: datetime, end: datetime, *, limit: int, after: int = 0
    ) -> list[tuple[int, PurchaseView]]:
        """The purchases created in ``[start, end)`` (what a seller reconciles a day against) with
        their row ids, in the order they were recorded (by id), at most ``limit`` of them after the
        row ``after``: a page; the last id is where the next page starts."""
        statement = (
            select(*_PURCHASE_COLUMNS)
            .where(_purchase.c.created_at >= start, _purchase.c.created_at < end, _purchase.c.id > after)
            .order_by(_purchase.c.id)
            .limit(limit)
        )
        rows = await self._db.run(lambda conn: conn.execute(statement).all(), one_statement=True)
        return [(row._mapping["id"], _view(row._mapping)) for row in rows]

    async def order_key_change(
        self,
        number: str,
        *,
        reference: str,
        key_revision: int,
        supply_group_code: str | None,
        tariff_index: str | None,
    ) -> MeterState:
        """Order a new key for a meter (sold with its next purchase), once per ``reference``: a retry
        changes nothing (the key change may have been sold since). Raises UnknownMeter,
        DuplicateReference (the reference with another order) or ValueError."""
        if not 1 <= key_revision <= 9:
            raise ValueError("keyRevision must be 1-9")
        if supply_group_code is not None and (len(supply_group_code) != 6 or not supply_group_code.isdigit()):
            raise ValueError("supplyGroupCode must be 6 digits")
        if tariff_index is not None and (len(tariff_index) != 2 or not tariff_index.isdigit()):
            raise ValueError("tariffIndex must be 2 digits")
        order = (number, key_revision, supply_group_code, tariff_index)
        await self._write(self._order_key_change, reference, order)
        state = await self.meter_state(number)
        assert state is not None
        return state

    def _order_key_change(
        self, conn: Connection, reference: str, order: tuple[str, int, str | None, str | None]
    ) -> None:
        number, key_revision, supply_group_code, tariff_index = order
        if self._locked_meter(conn, number) is None:
            raise UnknownMeter(number)
        stored = conn.execute(select(_key_change_order).where(_key_change_order.c.reference == reference)).first()
        if stored is not None:
            if (stored.meter_number, stored.key_revision, stored.supply_group_code, stored.tariff_index) != order:
                raise DuplicateReference(reference)
            return
        conn.execute(
            _key_change_order.insert().values(
                reference=reference, meter_number=number, key_revision=key_revision,
                supply_group_code=supply_group_code, tariff_index=tariff_index, ordered_at=self._now(),
            )
        )  # fmt: skip
        values = {"new_key_revision": key_revision, "new_supply_group_code": supply_group_code,
                  "new_tariff_index": tariff_index}  # fmt: skip
        conn.execute(update(_meter).where(_meter.c.number == number).values(**values))

    async def find_meter(self, number: str) -> BillerMeter | None:
        async with self._db.session() as session:
            return await session.get(BillerMeter, number)
