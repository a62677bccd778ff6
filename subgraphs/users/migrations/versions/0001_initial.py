"""Initial schema of the users subgraph: customers.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users_customer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users_customer")),
    )
    op.create_index("ix_users_customer_created", "users_customer", ["created_at", "id"], unique=False)
    # One account per (normalised) email, enforced by the database.
    op.create_index("uq_users_customer_email", "users_customer", ["email"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_customer_email", table_name="users_customer")
    op.drop_index("ix_users_customer_created", table_name="users_customer")
    op.drop_table("users_customer")
