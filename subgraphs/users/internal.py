"""``GET /internal/sessions/{customer_id}``: a customer's session state, for the other services.

Only master and transactions may ask (a service token signed with their own key, see
:mod:`setrum_common.trust`). 200 ``{"version": n, "kept": sid|null}``, 404 for an unknown
customer, 401/403 for any other caller, 503 when the database cannot answer. See
:mod:`setrum_common.sessions`.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from setrum_common.errors import ErrorCode
from setrum_common.sessions import SESSIONS_PATH, SessionLookup, SessionState
from setrum_common.trust.internal_routes import InternalGuard

from .settings import UsersSettings

__all__ = ["SESSION_CALLERS", "internal_routes"]

logger = logging.getLogger("setrum.users.internal")

SESSION_CALLERS = ("master", "transactions")  # the services that build viewers from customer tokens


async def _state(lookup: SessionLookup, customer_id: str) -> SessionState | None:
    """The lookup, asked once more when its database connection fails: after a PostgreSQL restart
    the first statement on each pooled connection fails (the pool replaces it), and a read is safe
    to repeat."""
    try:
        return await lookup(customer_id)
    except DBAPIError as error:
        logger.warning("session lookup failed once (%s); asking again", type(error.orig).__name__)
        return await lookup(customer_id)


def internal_routes(settings: UsersSettings, lookup: SessionLookup) -> list[Route]:
    guard = InternalGuard(settings.service_keyring("users"))

    async def session_state(request: Request) -> Response:
        try:
            state = await _state(lookup, request.path_params["customer_id"])
        except DBAPIError:
            logger.exception("session lookup failed twice")
            message = "The session store cannot answer now; try again"
            return JSONResponse({"code": ErrorCode.SERVICE_UNAVAILABLE, "message": message}, status_code=503)
        if state is None:
            return JSONResponse({"code": ErrorCode.NOT_FOUND, "message": "No such customer"}, status_code=404)
        return JSONResponse({"version": state.version, "kept": state.kept})

    return [
        Route(SESSIONS_PATH + "{customer_id}", guard.accepting(SESSION_CALLERS, session_state), methods=["GET"]),
    ]
