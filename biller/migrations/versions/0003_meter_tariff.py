"""The meter's tariff class and power in the register (the biller prices a sale's energy itself);
a request reference on management tokens (a retry returns the same token).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
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
    with op.batch_alter_table("biller_meter") as batch:
        batch.add_column(sa.Column("tariff_code", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("power_va", sa.Integer(), nullable=True))
    with op.batch_alter_table("biller_management_token") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=64), nullable=True))
        batch.create_unique_constraint("uq_biller_management_token_reference", ["reference"])


def downgrade() -> None:
    with op.batch_alter_table("biller_management_token") as batch:
        batch.drop_constraint("uq_biller_management_token_reference", type_="unique")
        batch.drop_column("reference")
    with op.batch_alter_table("biller_meter") as batch:
        batch.drop_column("power_va")
        batch.drop_column("tariff_code")
