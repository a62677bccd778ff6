"""``GET /internal/sessions/{customer_id}``: a customer's session state, for the other services.

Service tokens only. 200 ``{"version": n, "kept": sid|null}``, 404 for an unknown customer,
401 for any other caller. See :mod:`setrum_common.sessions`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from setrum_common.auth import viewer_from_authorization
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.sessions import SessionLookup

from .settings import UsersSettings

__all__ = ["internal_routes"]


def internal_routes(settings: UsersSettings, lookup: SessionLookup) -> list[Route]:
    jwt_secret = settings.jwt_secret.get_secret_value()
    service_secret = settings.service_secret.get_secret_value()

    async def session_state(request: Request) -> Response:
        try:
            viewer = viewer_from_authorization(request.headers, jwt_secret=jwt_secret, service_secret=service_secret)
        except DomainError as error:
            viewer = None
            message = error.message
        if viewer is None or not viewer.is_service:
            message = "Only Setrum services may call this: send a service token" if viewer else message
            return JSONResponse({"code": ErrorCode.UNAUTHENTICATED, "message": message}, status_code=401)
        state = await lookup(request.path_params["customer_id"])
        if state is None:
            return JSONResponse({"code": ErrorCode.NOT_FOUND, "message": "No such customer"}, status_code=404)
        return JSONResponse({"version": state.version, "kept": state.kept})

    return [Route("/internal/sessions/{customer_id}", session_state, methods=["GET"])]
