"""Instalment paydown (docs/domain.md §Instalments): what a meter's purchases paid towards its debt.

Master registers the debt and the fixed amount taken per purchase; a quote takes
``min(instalment, debt - paid)``. The seller counts ``paid`` here, in the purchase's own database
transaction, so a purchase and its instalment stand or fall together:

- booking a purchase adds its instalment with ONE conditional upsert: a full instalment may be
  added by any number of concurrent purchases as long as the total stays within the debt; the last,
  partial one only if nothing was paid since it was quoted. Otherwise :class:`InstalmentMoved` and
  the purchase is quoted again with the new total;
- a FAILED or REFUNDED purchase gives its instalment back in the same transaction as its refund
  (which happens once per purchase), so the debt goes down exactly once per SUCCESS purchase.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from setrum_common.clock import utc_now

from .models import MeterInstalment

__all__ = ["InstalmentMoved", "give_back", "paid_for", "pay"]

_T = MeterInstalment.__table__
_PAID = select(_T.c.paid).where(_T.c.meter_number == bindparam("inst_meter"))


class InstalmentMoved(Exception):
    """Another purchase paid towards the debt since this one was quoted: quote again."""


def _pay_statement(builder: Any) -> Any:
    due = bindparam("inst_due", type_=_T.c.paid.type)
    at = bindparam("inst_at", type_=_T.c.updated_at.type)
    fits = _T.c.paid + due <= bindparam("inst_debt", type_=_T.c.paid.type)
    full = bindparam("inst_full", type_=_T.c.paid.type) == due  # a full instalment...
    unchanged = _T.c.paid == bindparam("inst_seen", type_=_T.c.paid.type)  # ...or nothing moved since the quote
    return (
        builder(_T)
        .values(meter_number=bindparam("inst_meter"), paid=due, updated_at=at)
        .on_conflict_do_update(
            index_elements=[_T.c.meter_number],
            set_={"paid": _T.c.paid + due, "updated_at": at},
            where=fits & (full | unchanged),
        )
        .returning(_T.c.paid)
    )


_PAY = {"sqlite": _pay_statement(sqlite.insert), "postgresql": _pay_statement(postgresql.insert)}


def paid_for(conn: Connection, meter_number: str) -> Decimal:
    """What the meter's purchases have paid so far (one indexed read)."""
    paid = conn.execute(_PAID, {"inst_meter": meter_number}).scalar_one_or_none()
    return Decimal("0.00") if paid is None else paid


def pay(
    conn: Connection, meter_number: str, *, due: Decimal, per_purchase: Decimal, debt: Decimal, seen: Decimal
) -> Decimal:
    """Add ``due`` to the meter's paid total inside the caller's transaction; returns the new total.

    ``seen`` is the total the quote was made with. Raises :class:`InstalmentMoved` when the
    instalment no longer fits (the caller rolls back and quotes again)."""
    params = {"inst_meter": meter_number, "inst_due": due, "inst_full": per_purchase, "inst_debt": debt,
              "inst_seen": seen, "inst_at": utc_now()}  # fmt: skip
    # No row yet means nothing was paid: the insert needs no condition (the quote made due fit).
    total = conn.execute(_PAY[conn.dialect.name], params).scalar_one_or_none()
    if total is None:
        raise InstalmentMoved(meter_number)
    return Decimal(total)


async def give_back(session: AsyncSession, meter_number: str, amount: Decimal) -> None:
    """Return a failed or refunded purchase's instalment (in the refund's transaction)."""
    await session.execute(
        update(MeterInstalment)
        .where(MeterInstalment.meter_number == meter_number)
        .values(paid=MeterInstalment.paid - amount, updated_at=utc_now())
    )
