"""Sign-in throttling per (email, client IP) instead of per email, so nobody can lock another
customer out: users_signin_attempt is recreated with a client_ip column in its key (the counters
only ever hold the current window's failures, so nothing worth keeping is dropped).

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
    op.drop_table("users_signin_attempt")
    op.create_table(
        "users_signin_attempt",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", "client_ip", name=op.f("pk_users_signin_attempt")),
    )
    op.create_index(op.f("ix_users_signin_attempt_window_started_at"), "users_signin_attempt", ["window_started_at"])


def downgrade() -> None:
    op.drop_table("users_signin_attempt")
    op.create_table(
        "users_signin_attempt",
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_users_signin_attempt")),
    )
