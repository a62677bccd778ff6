"""Session revocation owned by the users service (see setrum_common.sessions)."""

from __future__ import annotations

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.sessions import SessionLookup, SessionState

from .. import repository
from ..throttle import utc_now

__all__ = ["local_session_lookup", "sign_out_everywhere"]


def local_session_lookup(db: Database) -> SessionLookup:
    async def lookup(customer_id: str) -> SessionState | None:
        found = await db.run(repository.session_state, customer_id, one_statement=True)
        return None if found is None else SessionState(version=found[0], kept=found[1])

    return lookup


async def sign_out_everywhere(db: Database, viewer: Viewer) -> str:
    """End every session of the viewer's account, this one included; returns the customer id."""
    viewer.require_authenticated()
    customer_id = viewer.customer_id
    if customer_id is None:
        raise DomainError(ErrorCode.FORBIDDEN, "Only a signed-in customer has sessions to sign out")
    async with db.transaction(write=True) as session:
        await repository.revoke_sessions(session, customer_id, keep=None, now=utc_now())
    return customer_id
