"""Revocable sessions: a session version per customer and the session a password change kept.

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
    with op.batch_alter_table("users_customer") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("kept_session", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users_customer") as batch:
        batch.drop_column("kept_session")
        batch.drop_column("session_version")
