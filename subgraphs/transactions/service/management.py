"""STS management tokens (admin): ask the biller for a class 2 token and keep a record of who asked."""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import select

from setrum_common.auth import Viewer
from setrum_common.db import Database
from setrum_common.errors import DomainError, ErrorCode

from .. import repository as repo
from ..clients import BillerMaintenance, BillerRejected, BillerUnavailable
from ..models import ManagementTokenKind, ManagementTokenRecord
from .dependencies import Services

__all__ = ["KEY_CHANGE_REQUIRED", "MAX_MANAGEMENT_PAGE", "issue_management_token", "management_tokens"]

logger = logging.getLogger("setrum.transactions")

KEY_CHANGE_REQUIRED = ErrorCode.KEY_CHANGE_REQUIRED  # the meter needs a key change token before any other token
MAX_MANAGEMENT_PAGE = 100
_MAX_POWER_WATTS = 1_000_000  # far above any prepaid connection (the largest is 197 kVA)
_REGISTERS = {0: "electricity", 0xFFFF: "all registers"}


def _management_value(kind: ManagementTokenKind, value: int | None) -> int | None:
    """What each kind carries: SET_MAX_POWER a positive watt limit; CLEAR_CREDIT optionally the
    register (0 electricity, the default, or 65535 all); CLEAR_TAMPER nothing."""
    if kind is ManagementTokenKind.SET_MAX_POWER:
        if value is None or not 0 < value <= _MAX_POWER_WATTS:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT,
                f"SET_MAX_POWER needs value = the limit in watts (1 to {_MAX_POWER_WATTS:,})",
                field="value",
            )
        return value
    if kind is ManagementTokenKind.CLEAR_CREDIT:
        if value is not None and value not in _REGISTERS:
            raise DomainError(
                ErrorCode.BAD_USER_INPUT,
                "CLEAR_CREDIT takes value 0 (electricity register, the default) or 65535 (all registers)",
                field="value",
            )
        return value
    if value not in (None, 0):
        raise DomainError(ErrorCode.BAD_USER_INPUT, "CLEAR_TAMPER carries no value", field="value")
    return None


def _management_meter(meter_number: str) -> str:
    number = (meter_number or "").strip()
    if len(number) != 11 or not number.isdigit():
        raise DomainError(ErrorCode.WRONG_DIGIT_COUNT, "meterNumber must be an 11-digit meter number")
    return number


async def issue_management_token(
    db: Database,
    services: Services,
    viewer: Viewer,
    *,
    meter_number: str,
    kind: ManagementTokenKind,
    value: int | None,
    client_reference: str | None = None,
) -> ManagementTokenRecord:
    """Ask the biller for a class 2 token and record who asked for it.

    Each call is a new token with a new TID, except a retry with the same ``client_reference``:
    the biller is idempotent by request reference, so it answers the token it issued (no new TID)
    and the record already kept is returned."""
    viewer.require_admin()
    kind = ManagementTokenKind(kind)
    number = _management_meter(meter_number)
    value = _management_value(kind, value)
    if client_reference is not None and not 1 <= len(client_reference.strip()) <= 60:
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, "clientReference must be 1 to 60 characters", field="clientReference"
        )
    reference = "MT-" + (client_reference.strip() if client_reference is not None else uuid.uuid4().hex)
    try:
        issued = await services.biller.management_token(
            meter_number=number, kind=kind.value, value=value, reference=reference
        )
    except BillerRejected as error:
        if error.code == "UNKNOWN_METER":
            raise DomainError(
                ErrorCode.WRONG_CUSTOMER_NUMBER, f"The biller has no meter {number} in its register"
            ) from None
        if error.code == KEY_CHANGE_REQUIRED:
            raise DomainError(
                KEY_CHANGE_REQUIRED,
                f"Meter {number} needs a key change (its STS base date has run out) before it accepts "
                "management tokens; its next purchase carries the key change tokens",
                meterNumber=number,
            ) from None
        if error.code == ErrorCode.BAD_USER_INPUT:
            raise DomainError(ErrorCode.BAD_USER_INPUT, f"The biller refused the request: {error}") from None
        if error.code == "DUPLICATE_REFERENCE":
            raise DomainError(
                ErrorCode.BAD_USER_INPUT,
                "clientReference was used for another management token",
                field="clientReference",
            ) from None
        logger.error("biller refused a management token for %s: %s (%s)", number, error, error.code)
        raise DomainError(ErrorCode.SERVICE_UNAVAILABLE, "The biller refused to issue the token") from None
    except BillerMaintenance:
        raise DomainError(ErrorCode.BILLER_MAINTENANCE, "The biller is in maintenance; try again later") from None
    except BillerUnavailable as error:
        code = ErrorCode.BILLER_TIMEOUT if error.code == ErrorCode.BILLER_TIMEOUT else ErrorCode.SERVICE_UNAVAILABLE
        raise DomainError(
            code, "The biller did not answer; a token may have been issued, check managementTokens or retry"
        ) from None
    record = ManagementTokenRecord(
        meter_number=number,
        kind=kind.value,
        value=value,
        token=issued.token,
        issued_at=issued.issued_at,
        issued_by=str(viewer.subject),
    )
    async with db.transaction() as session:
        kept = await session.scalar(
            select(ManagementTokenRecord).where(
                ManagementTokenRecord.meter_number == number, ManagementTokenRecord.token == issued.token
            )
        )
        if kept is not None:  # a retry: the biller answered the token it issued before
            return kept
        session.add(record)
        await session.flush()
    services.metrics.management_token_issued(kind)
    logger.info("management token %s for meter %s issued by %s", kind.value, number, viewer.subject)
    return record


async def management_tokens(
    db: Database, viewer: Viewer, meter_number: str, *, first: int
) -> list[ManagementTokenRecord]:
    """Admin: the management tokens issued for a meter, newest first."""
    viewer.require_admin()
    if not 1 <= first <= MAX_MANAGEMENT_PAGE:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"first must be between 1 and {MAX_MANAGEMENT_PAGE}")
    number = _management_meter(meter_number)
    async with db.session() as session:
        return await repo.list_management_tokens(session, number, first=first)
