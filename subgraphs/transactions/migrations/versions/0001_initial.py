"""Initial schema of the transactions subgraph: wallets, ledger, purchases, monthly usage, management tokens.

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
        "tx_ledger_entry",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("purchase_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_ledger_entry")),
        sa.UniqueConstraint("reference", name=op.f("uq_tx_ledger_entry_reference")),
    )
    op.create_index("ix_tx_ledger_entry_customer_order", "tx_ledger_entry", ["customer_id", "id"], unique=False)
    op.create_table(
        "tx_management_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("token", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_management_token")),
    )
    op.create_index(
        "ix_tx_management_token_meter_order", "tx_management_token", ["meter_number", "issued_at", "id"], unique=False
    )
    op.create_table(
        "tx_meter_month_usage",
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("kwh_tenths", sa.BigInteger(), nullable=False),
        sa.Column("power_va", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kwh_tenths >= 0", name=op.f("ck_tx_meter_month_usage_kwh_not_negative")),
        sa.PrimaryKeyConstraint("meter_number", "month", name=op.f("pk_tx_meter_month_usage")),
    )
    op.create_table(
        "tx_purchase",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("client_reference", sa.String(length=64), nullable=False),
        sa.Column("channel_reference", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("idpel", sa.String(length=12), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("tariff_code", sa.String(length=10), nullable=False),
        sa.Column("power_va", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=False),
        sa.Column("denomination", sa.BigInteger(), nullable=False),
        sa.Column("nominal", sa.BigInteger(), nullable=False),
        sa.Column("admin_fee", sa.BigInteger(), nullable=False),
        sa.Column("stamp_duty", sa.BigInteger(), nullable=False),
        sa.Column("ppn", sa.BigInteger(), nullable=False),
        sa.Column("ppj", sa.BigInteger(), nullable=False),
        sa.Column("instalment", sa.BigInteger(), nullable=False),
        sa.Column("energy_value", sa.BigInteger(), nullable=False),
        sa.Column("kwh_tenths", sa.BigInteger(), nullable=False),
        sa.Column("total_paid", sa.BigInteger(), nullable=False),
        sa.Column("usage_month", sa.String(length=7), nullable=False),
        sa.Column("token", sa.String(length=20), nullable=True),
        sa.Column("biller_reference", sa.String(length=100), nullable=True),
        sa.Column("biller_code", sa.String(length=60), nullable=True),
        sa.Column("biller_message", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_purchase")),
        sa.UniqueConstraint("channel_reference", name=op.f("uq_tx_purchase_channel_reference")),
        sa.UniqueConstraint(
            "customer_id", "client_reference", name=op.f("uq_tx_purchase_customer_id_client_reference")
        ),
    )
    op.create_index("ix_tx_purchase_customer_order", "tx_purchase", ["customer_id", "created_at", "id"], unique=False)
    op.create_index("ix_tx_purchase_meter_month", "tx_purchase", ["meter_number", "usage_month"], unique=False)
    op.create_index("ix_tx_purchase_meter_order", "tx_purchase", ["meter_number", "created_at", "id"], unique=False)
    op.create_table(
        "tx_wallet",
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_tx_wallet_balance_not_negative")),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_tx_wallet")),
    )


def downgrade() -> None:
    op.drop_table("tx_wallet")
    op.drop_index("ix_tx_purchase_meter_order", table_name="tx_purchase")
    op.drop_index("ix_tx_purchase_meter_month", table_name="tx_purchase")
    op.drop_index("ix_tx_purchase_customer_order", table_name="tx_purchase")
    op.drop_table("tx_purchase")
    op.drop_table("tx_meter_month_usage")
    op.drop_index("ix_tx_management_token_meter_order", table_name="tx_management_token")
    op.drop_table("tx_management_token")
    op.drop_index("ix_tx_ledger_entry_customer_order", table_name="tx_ledger_entry")
    op.drop_table("tx_ledger_entry")
