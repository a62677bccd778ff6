"""Instalments paid per meter; the key change pair and the debt left on each purchase.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tx_meter_instalment",
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("paid", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("paid >= 0", name=op.f("ck_tx_meter_instalment_paid_not_negative")),
        sa.PrimaryKeyConstraint("meter_number", name=op.f("pk_tx_meter_instalment")),
    )
    with op.batch_alter_table("tx_purchase") as batch:
        batch.add_column(sa.Column("key_change_tokens", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("instalment_debt_left", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tx_purchase") as batch:
        batch.drop_column("instalment_debt_left")
        batch.drop_column("key_change_tokens")
    op.drop_table("tx_meter_instalment")
