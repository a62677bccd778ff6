"""Initial schema of the payment provider: intents and payments.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
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
        "pay_intent",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_reference", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("bank_code", sa.String(length=16), nullable=True),
        sa.Column("va_number", sa.String(length=20), nullable=True),
        sa.Column("qris_payload", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_intent")),
        sa.UniqueConstraint("merchant_reference", name=op.f("uq_pay_intent_merchant_reference")),
        sa.UniqueConstraint("va_number", name=op.f("uq_pay_intent_va_number")),
    )
    op.create_table(
        "pay_payment",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("intent_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notify_state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_answer", sa.String(length=255), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pay_payment")),
        sa.UniqueConstraint("intent_id", name=op.f("uq_pay_payment_intent_id")),
    )
    op.create_index(op.f("ix_pay_payment_notify_state"), "pay_payment", ["notify_state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_pay_payment_notify_state"), table_name="pay_payment")
    op.drop_table("pay_payment")
    op.drop_table("pay_intent")
