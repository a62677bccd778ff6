"""Read-only look-ups in the biller database for support tools (``setrum token inspect``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from setrum_common.db import Database
from sts.keys import MeterKeyParams

from .models import BillerManagementToken, BillerMeter, BillerPurchase
from .service import meter_key_params

__all__ = ["RegisterEntry", "TokenHistory", "lookup_meter", "lookup_meter_sync", "token_history"]


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    params: MeterKeyParams
    base_date: int
    status: str
    last_tid: int | None


@dataclass(frozen=True, slots=True)
class TokenHistory:
    reference: str | None  # the purchase that carried this token, if any
    purchase_status: str | None
    newer_tokens: int  # tokens issued for the meter with a larger TID


async def lookup_meter(db: Database, number: str) -> RegisterEntry | None:
    async with db.session() as session:
        meter = await session.get(BillerMeter, number)
    if meter is None:
        return None
    return RegisterEntry(meter_key_params(meter), meter.base_date, meter.status, meter.last_tid)


async def token_history(db: Database, number: str, token: str, tid: int) -> TokenHistory:
    async with db.session() as session:
        found = (
            await session.execute(
                select(BillerPurchase.reference, BillerPurchase.status).where(
                    BillerPurchase.meter_number == number, BillerPurchase.token == token
                )
            )
        ).first()
        newer = (
            await session.execute(
                select(func.count())
                .select_from(BillerPurchase)
                .where(BillerPurchase.meter_number == number, BillerPurchase.tid > tid)
            )
        ).scalar_one()
        newer += (
            await session.execute(
                select(func.count())
                .select_from(BillerManagementToken)
                .where(BillerManagementToken.meter_number == number, BillerManagementToken.tid > tid)
            )
        ).scalar_one()
    return TokenHistory(found[0] if found else None, found[1] if found else None, int(newer))


def lookup_meter_sync(
    database_url: str, number: str, token: str | None = None, tid: int | None = None
) -> tuple[RegisterEntry | None, TokenHistory | None]:
    """Both look-ups in one short-lived event loop, for synchronous command-line tools."""

    url = make_url(database_url)
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and not Path(str(url.database)).is_file():
        # Don't let a look-up create an empty database file as a side effect.
        raise FileNotFoundError(f"no biller database at {url.database}")

    async def run() -> tuple[RegisterEntry | None, TokenHistory | None]:
        db = Database(database_url)
        try:
            entry = await lookup_meter(db, number)
            history = None
            if entry is not None and token is not None and tid is not None:
                history = await token_history(db, number, token, tid)
            return entry, history
        finally:
            await db.dispose()

    return asyncio.run(run())
