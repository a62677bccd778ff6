"""Key changes: an ordered key change on the meter row, the key change pair on the purchase.

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
    with op.batch_alter_table("biller_meter") as batch:
        batch.add_column(sa.Column("new_key_revision", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("new_supply_group_code", sa.String(length=6), nullable=True))
        batch.add_column(sa.Column("new_tariff_index", sa.String(length=2), nullable=True))
    with op.batch_alter_table("biller_purchase") as batch:
        batch.add_column(sa.Column("key_change_tokens", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("biller_purchase") as batch:
        batch.drop_column("key_change_tokens")
    with op.batch_alter_table("biller_meter") as batch:
        batch.drop_column("new_tariff_index")
        batch.drop_column("new_supply_group_code")
        batch.drop_column("new_key_revision")
