"""GraphQL types of STS management tokens (class 2), issued by admins through the biller."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from .. import models
from .types import printed_token

if TYPE_CHECKING:
    from .entities import MeterInTransactions

__all__ = ["ManagementTokenKind", "ManagementTokenType"]

ManagementTokenKind = strawberry.enum(
    models.ManagementTokenKind,
    name="ManagementTokenKind",
    description="IEC 62055-41 class 2 tokens: set the maximum power limit, clear the credit register, clear a tamper",
)


@strawberry.type(name="ManagementToken", description="A management token issued for a meter, and who asked for it")
class ManagementTokenType:
    id: strawberry.ID
    meter_number: str
    kind: models.ManagementTokenKind  # registered above as ManagementTokenKind
    value: int | None = strawberry.field(
        description="SET_MAX_POWER: the limit in watts; CLEAR_CREDIT: the register (0 electricity, 65535 all)"
    )
    token: str = strawberry.field(description="20 digits to key into the meter")
    formatted_token: str = strawberry.field(description="The token as XXXX-XXXX-XXXX-XXXX-XXXX")
    issued_at: datetime
    issued_by: str = strawberry.field(description="Customer id of the admin (or the service) that asked for it")

    @classmethod
    def from_row(cls, row: models.ManagementTokenRecord) -> ManagementTokenType:
        return cls(
            id=strawberry.ID(str(row.id)),
            meter_number=row.meter_number,
            kind=models.ManagementTokenKind(row.kind),
            value=row.value,
            token=row.token,
            formatted_token=printed_token(row.token) or "",
            issued_at=row.issued_at,
            issued_by=row.issued_by,
        )

    @strawberry.field(description="The meter (resolved by master)")
    def meter(self) -> Annotated[MeterInTransactions, strawberry.lazy(".entities")]:
        from .entities import MeterInTransactions

        return MeterInTransactions(number=self.meter_number)
