"""GraphQL types of the operator's view (admin fields; see :mod:`..service.operations`)."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from ..service import operations
from .types import tenths

__all__ = ["DaySales", "Settlement", "SettlementDifference", "SettlementLine"]


@strawberry.type(description="Purchases of one Jakarta day in one status")
class DaySales:
    day: str
    status: str
    count: int
    nominal: Decimal
    total_paid: Decimal
    kwh: Decimal
    instalment: Decimal

    @classmethod
    def of(cls, row: operations.DaySales) -> DaySales:
        return cls(
            day=row.day, status=row.status, count=row.count, nominal=row.nominal, total_paid=row.total_paid,
            kwh=tenths(row.kwh_tenths), instalment=row.instalment,
        )  # fmt: skip


@strawberry.type(description="One status of a day: our count and nominal sum beside the biller's")
class SettlementLine:
    status: str
    count: int
    nominal: Decimal
    biller_count: int
    biller_nominal: Decimal


@strawberry.type(
    description="A purchase the two sides disagree on: MISSING_AT_BILLER, UNKNOWN_TO_US, STATUS_MISMATCH "
    "(a REFUNDED purchase matches the biller's SUCCESS) or AMOUNT_MISMATCH"
)
class SettlementDifference:
    channel_reference: str
    problem: str
    status: str | None
    biller_status: str | None
    nominal: Decimal | None
    biller_nominal: Decimal | None


@strawberry.type(description="A day's sales settled against the biller's own list")
class Settlement:
    day: str
    balanced: bool
    lines: list[SettlementLine]
    differences: list[SettlementDifference]

    @classmethod
    def of(cls, report: operations.Settlement) -> Settlement:
        return cls(
            day=report.day,
            balanced=report.balanced,
            lines=[
                SettlementLine(
                    status=x.status, count=x.count, nominal=x.nominal,
                    biller_count=x.biller_count, biller_nominal=x.biller_nominal,
                )
                for x in report.lines
            ],
            differences=[
                SettlementDifference(
                    channel_reference=d.channel_reference, problem=d.problem, status=d.status,
                    biller_status=d.biller_status, nominal=d.nominal, biller_nominal=d.biller_nominal,
                )
                for d in report.differences
            ],
        )

