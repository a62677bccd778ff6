"""A customer's saved (bookmarked) meters."""

from __future__ import annotations

from setrum_common.auth import Viewer
from setrum_common.clock import utc_now
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..identifiers import IdentifierKind
from ..models import SavedMeter
from .inputs import bad_input, parse_number, unknown_meter
from .lookup import meter_facts

__all__ = ["remove_meter", "save_meter"]

_ALIAS_MAX = 60


def _customer(viewer: Viewer) -> str:
    viewer.require_authenticated()
    if viewer.customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer can keep saved meters")
    return viewer.customer_id


async def save_meter(db: Database, viewer: Viewer, raw: str, alias: str | None) -> SavedMeter:
    """Bookmark a meter (by number or IDPEL) for the viewer; saving again updates the alias."""
    customer_id = _customer(viewer)
    number = parse_number(raw)
    clean_alias = (alias or "").strip() or None
    if clean_alias is not None and len(clean_alias) > _ALIAS_MAX:
        raise bad_input(f"alias is longer than {_ALIAS_MAX} characters")
    facts = await meter_facts(db, number, utc_now())
    if facts is None:
        raise unknown_meter(number)
    async with db.transaction() as session:
        return await repo.add_saved_meter(session, customer_id, facts.meter.number, clean_alias)


async def remove_meter(db: Database, viewer: Viewer, raw: str) -> bool:
    """Forget a saved meter; False when it was not saved (removing twice is harmless)."""
    customer_id = _customer(viewer)
    number = parse_number(raw)
    meter_number = number.value
    if number.kind is IdentifierKind.IDPEL:
        facts = await meter_facts(db, number, utc_now())
        if facts is None:
            return False
        meter_number = facts.meter.number
    async with db.transaction() as session:
        return await repo.remove_saved_meter(session, customer_id, meter_number)
