"""Settlement worker: a lease/backoff time and an attempt count on each purchase.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tx_purchase") as batch:
        batch.add_column(sa.Column("settle_after", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("settle_attempts", sa.Integer(), server_default="0", nullable=False))
    op.create_index("ix_tx_purchase_settle", "tx_purchase", ["status", "settle_after"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tx_purchase_settle", table_name="tx_purchase")
    with op.batch_alter_table("tx_purchase") as batch:
        batch.drop_column("settle_attempts")
        batch.drop_column("settle_after")
