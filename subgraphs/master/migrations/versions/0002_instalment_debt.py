"""Instalments: the registered debt beside the amount taken per purchase.

Until now ``instalment`` was taken from every purchase for ever. An existing instalment becomes
one last payment (debt = instalment); operators set the real outstanding debt with ``upsertMeter``.

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
    with op.batch_alter_table("master_meter") as batch:
        batch.add_column(sa.Column("instalment_debt", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute("UPDATE master_meter SET instalment_debt = instalment")
    # The server default stays: dropping it would make SQLite rebuild master_meter, and the rebuild's
    # DROP TABLE fails the saved meters' foreign key on a database that has any.


def downgrade() -> None:
    with op.batch_alter_table("master_meter") as batch:
        batch.drop_column("instalment_debt")
