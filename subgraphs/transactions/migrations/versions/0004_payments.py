"""Wallet money from payments: top-up intents, credited payments, delivery ids, admin adjustments.

Every top-up before this revision was a simulated one (``topUpWallet``), so its ledger entries become
DEV_TOPUP; from here on TOPUP means a provider payment with exactly one ``tx_top_up_payment`` row.

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
    op.create_table(
        "tx_top_up",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider_intent_id", sa.String(length=40), nullable=True),
        sa.Column("bank_code", sa.String(length=16), nullable=True),
        sa.Column("va_number", sa.String(length=20), nullable=True),
        sa.Column("qris_payload", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_top_up")),
        sa.UniqueConstraint("provider_intent_id", name=op.f("uq_tx_top_up_provider_intent_id")),
    )
    op.create_index("ix_tx_top_up_customer_order", "tx_top_up", ["customer_id", "created_at", "id"], unique=False)
    op.create_table(
        "tx_top_up_payment",
        sa.Column("provider_payment_id", sa.String(length=40), nullable=False),
        sa.Column("top_up_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("ledger_reference", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credited_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider_payment_id", name=op.f("pk_tx_top_up_payment")),
        sa.UniqueConstraint("ledger_reference", name=op.f("uq_tx_top_up_payment_ledger_reference")),
        sa.UniqueConstraint("top_up_id", name=op.f("uq_tx_top_up_payment_top_up_id")),
    )
    op.create_table(
        "tx_payment_delivery",
        sa.Column("delivery_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_tx_payment_delivery")),
    )
    op.create_table(
        "tx_wallet_adjustment",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("admin_id", sa.String(length=64), nullable=False),
        sa.Column("ledger_reference", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_wallet_adjustment")),
        sa.UniqueConstraint("ledger_reference", name=op.f("uq_tx_wallet_adjustment_ledger_reference")),
    )
    op.create_index(
        "ix_tx_wallet_adjustment_customer_order", "tx_wallet_adjustment", ["customer_id", "created_at"], unique=False
    )
    op.execute("UPDATE tx_ledger_entry SET kind = 'DEV_TOPUP' WHERE kind = 'TOPUP'")


def downgrade() -> None:
    op.execute("UPDATE tx_ledger_entry SET kind = 'TOPUP' WHERE kind IN ('DEV_TOPUP', 'ADJUSTMENT')")
    op.drop_index("ix_tx_wallet_adjustment_customer_order", table_name="tx_wallet_adjustment")
    op.drop_table("tx_wallet_adjustment")
    op.drop_table("tx_payment_delivery")
    op.drop_table("tx_top_up_payment")
    op.drop_index("ix_tx_top_up_customer_order", table_name="tx_top_up")
    op.drop_table("tx_top_up")
