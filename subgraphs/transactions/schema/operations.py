"""GraphQL types of the operator's view (admin fields; see :mod:`..service.operations` and
:mod:`..biller_reconciliation`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from .. import biller_reconciliation
from ..service import operations
from .types import tenths

__all__ = ["BillerReconciliationDifference", "BillerReconciliationLine", "BillerReconciliationReport", "DaySalesType"]


@strawberry.type(name="DaySales", description="Purchases of one Jakarta day in one status")
class DaySalesType:
    day: str
    status: str
    count: int
    nominal: Decimal
    total_paid: Decimal
    kwh: Decimal
    instalment: Decimal

    @classmethod
    def of(cls, row: operations.DaySales) -> DaySalesType:
        return cls(
            day=row.day, status=row.status, count=row.count, nominal=row.nominal, total_paid=row.total_paid,
            kwh=tenths(row.kwh_tenths), instalment=row.instalment,
        )  # fmt: skip


@strawberry.type(description="One status of a day: our count and nominal sum beside the biller's")
class BillerReconciliationLine:
    status: str
    count: int
    nominal: Decimal
    biller_count: int
    biller_nominal: Decimal


@strawberry.type(
    description="A purchase the two sides disagree on: MISSING_HERE, MISSING_AT_BILLER (a FAILED purchase the "
    "biller never saw is no difference), STATUS_MISMATCH (a REFUNDED purchase matches the biller's SUCCESS), "
    "AMOUNT_MISMATCH or TOKEN_MISMATCH"
)
class BillerReconciliationDifference:
    channel_reference: str
    problem: str
    status: str | None = strawberry.field(description="ours")
    biller_status: str | None
    nominal: Decimal | None
    biller_nominal: Decimal | None


@strawberry.type(description="One Jakarta day of our purchases against the biller's record; ok when they match")
class BillerReconciliationReport:
    date: date
    ok: bool
    truncated: bool = strawberry.field(description="the biller's list was cut short; the report is incomplete")
    lines: list[BillerReconciliationLine]
    differences: list[BillerReconciliationDifference]

    @classmethod
    def of(cls, report: biller_reconciliation.BillerReconciliation) -> BillerReconciliationReport:
        return cls(
            date=report.day,
            ok=report.ok,
            truncated=report.truncated,
            lines=[
                BillerReconciliationLine(
                    status=x.status,
                    count=x.count,
                    nominal=x.nominal,
                    biller_count=x.biller_count,
                    biller_nominal=x.biller_nominal,
                )
                for x in report.lines
            ],
            differences=[
                BillerReconciliationDifference(
                    channel_reference=d.channel_reference,
                    problem=d.problem,
                    status=d.status,
                    biller_status=d.biller_status,
                    nominal=d.nominal,
                    biller_nominal=d.biller_nominal,
                )
                for d in report.differences
            ],
        )
