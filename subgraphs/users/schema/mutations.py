"""Mutation root of the users subgraph: sign-up, sign-in, profile changes."""

from __future__ import annotations

from typing import Any

import strawberry

from setrum_common.client_ip import client_ip
from setrum_common.errors import DomainError, ErrorCode
from setrum_common.schema_access import SIGNED_IN

from ..service import accounts, profile, sessions
from .context import context_of, state_of
from .types import AuthPayload, CustomerType, SignUpInput, UpdateProfileInput

__all__ = ["UsersMutation"]


def _payload(result: accounts.AuthResult) -> AuthPayload:
    return AuthPayload(
        token=result.token, expires_at=result.expires_at, customer=CustomerType.from_model(result.customer)
    )


def _given(value: Any) -> Any:
    return profile.KEEP if value is strawberry.UNSET else value


def _client_ip(info: strawberry.Info) -> str:
    return client_ip(context_of(info).request, state_of(info).settings.trusted_networks)


@strawberry.type(name="Mutation")
class UsersMutation:
    @strawberry.mutation(description="Create a customer account and sign in.")
    async def sign_up(self, info: strawberry.Info, input: SignUpInput) -> AuthPayload:
        state = state_of(info)
        result = await accounts.sign_up(
            context_of(info).db,
            state.passwords,
            state.settings,
            name=input.name,
            email=input.email,
            password=input.password,
            phone=input.phone,
            client_ip=_client_ip(info),
        )
        return _payload(result)

    @strawberry.mutation(description="Exchange email and password for a bearer token.")
    async def sign_in(self, info: strawberry.Info, email: str, password: str) -> AuthPayload:
        state = state_of(info)
        result = await accounts.sign_in(
            context_of(info).db,
            state.passwords,
            state.settings,
            email=email,
            password=password,
            throttle=state.throttle,
            client_ip=_client_ip(info),
        )
        return _payload(result)

    @strawberry.mutation(directives=SIGNED_IN, description="Change your own name, email, phone or password.")
    async def update_profile(self, info: strawberry.Info, input: UpdateProfileInput) -> CustomerType:
        context = context_of(info)
        name, email = _given(input.name), _given(input.email)
        if name is None or email is None:
            field = "name" if name is None else "email"
            raise DomainError(ErrorCode.BAD_USER_INPUT, f"'{field}' cannot be null; leave it out to keep it")
        changes = profile.ProfileChanges(
            name=name,
            email=email,
            phone=_given(input.phone),
            current_password=input.current_password or None,
            new_password=None if input.new_password is strawberry.UNSET else input.new_password,
        )
        updated = await profile.update_profile(context.db, state_of(info).passwords, context.viewer, changes)
        state_of(info).sessions.forget(updated.id)
        return CustomerType.from_model(updated)

    @strawberry.mutation(
        directives=SIGNED_IN,
        description="Sign out on every device: every token issued so far, this one included, stops working.",
    )
    async def sign_out_everywhere(self, info: strawberry.Info) -> bool:
        context = context_of(info)
        customer_id = await sessions.sign_out_everywhere(context.db, context.viewer)
        state_of(info).sessions.forget(customer_id)
        return True
