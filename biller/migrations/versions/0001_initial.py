"""Initial schema of the biller: meter register, purchases, management tokens.

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

# 64-bit keys on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "biller_meter",
        sa.Column("number", sa.String(length=11), nullable=False),
        sa.Column("iin", sa.String(length=6), nullable=False),
        sa.Column("supply_group_code", sa.String(length=6), nullable=False),
        sa.Column("tariff_index", sa.String(length=2), nullable=False),
        sa.Column("key_type", sa.Integer(), nullable=False),
        sa.Column("key_revision", sa.Integer(), nullable=False),
        sa.Column("base_date", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_tid", sa.Integer(), nullable=True),
        # func.now(): CURRENT_TIMESTAMP on SQLite, now() on PostgreSQL.
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_biller_meter")),
    )
    op.create_table(
        "biller_purchase",
        sa.Column("id", _ID, nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("biller_reference", sa.String(length=32), nullable=False),
        sa.Column("meter_number", sa.String(length=32), nullable=False),
        sa.Column("kwh_tenths", sa.Integer(), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("token", sa.String(length=24), nullable=True),
        sa.Column("tid", sa.Integer(), nullable=True),
        sa.Column("carried_tenths", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("message", sa.String(length=255), nullable=True),
        sa.Column("pending_answers_left", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biller_purchase")),
        sa.UniqueConstraint("biller_reference", name=op.f("uq_biller_purchase_biller_reference")),
        sa.UniqueConstraint("reference", name=op.f("uq_biller_purchase_reference")),
    )
    op.create_index(op.f("ix_biller_purchase_meter_number"), "biller_purchase", ["meter_number"], unique=False)
    op.create_table(
        "biller_management_token",
        sa.Column("id", _ID, nullable=False),
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("token", sa.String(length=24), nullable=False),
        sa.Column("tid", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biller_management_token")),
    )
    op.create_index(
        op.f("ix_biller_management_token_meter_number"), "biller_management_token", ["meter_number"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_biller_management_token_meter_number"), table_name="biller_management_token")
    op.drop_table("biller_management_token")
    op.drop_index(op.f("ix_biller_purchase_meter_number"), table_name="biller_purchase")
    op.drop_table("biller_purchase")
    op.drop_table("biller_meter")
