"""Key change orders by request reference (a retried order is not applied twice).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "biller_key_change_order",
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("key_revision", sa.Integer(), nullable=False),
        sa.Column("supply_group_code", sa.String(length=6), nullable=True),
        sa.Column("tariff_index", sa.String(length=2), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reference", name=op.f("pk_biller_key_change_order")),
    )


def downgrade() -> None:
    op.drop_table("biller_key_change_order")
