"""GraphQL types of the users subgraph."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from .. import models
from .entities import resolve_customer_reference

__all__ = ["AuthPayload", "CustomerType", "RoleType", "SignUpInput", "UpdateProfileInput"]


@strawberry.enum(name="Role")
class RoleType(enum.Enum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"


@strawberry.federation.type(
    name="Customer", keys=["id"], description="A person who buys electricity tokens, or an administrator."
)
class CustomerType:
    id: strawberry.ID
    name: str
    email: str = strawberry.field(description="Lower-cased; unique regardless of case.")
    phone: str | None = strawberry.field(description="E.164, e.g. +6281234567890.")
    role: RoleType
    created_at: datetime

    @classmethod
    def from_model(cls, customer: models.Customer) -> CustomerType:
        return cls(
            id=strawberry.ID(customer.id),
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            role=RoleType(customer.role),
            created_at=customer.created_at,
        )

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info, id: strawberry.ID, **_: Any) -> CustomerType | None:
        found = await resolve_customer_reference(info, str(id))
        return cls.from_model(found) if found is not None else None


@strawberry.type
class AuthPayload:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    customer: CustomerType


@strawberry.input
class SignUpInput:
    name: str
    email: str
    password: str = strawberry.field(
        description="At least 10 characters, mixing two kinds (lower, upper, digits, symbols); not the email."
    )
    phone: str | None = None


@strawberry.input(description="Only the fields given are changed; phone: null clears the phone.")
class UpdateProfileInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    current_password: str | None = strawberry.field(
        default=strawberry.UNSET, description="Required to change the email or set newPassword."
    )
    new_password: str | None = strawberry.UNSET
