"""Initial schema of the master subgraph: regions, tariffs, fees, denominations, meters, saved meters.

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
        "master_channel",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("admin_fee", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_master_channel")),
    )
    op.create_table(
        "master_denomination",
        sa.Column("amount", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("amount", name=op.f("pk_master_denomination")),
    )
    op.create_table(
        "master_region",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_master_region")),
    )
    op.create_table(
        "master_stamp_duty_rule",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_stamp_duty_rule")),
    )
    op.create_table(
        "master_tariff",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("min_va", sa.BigInteger(), nullable=False),
        sa.Column("max_va", sa.BigInteger(), nullable=True),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("ppn_rate", sa.BigInteger(), nullable=False),
        sa.Column("effective_from", sa.DateTime(), nullable=False),
        sa.Column("effective_to", sa.DateTime(), nullable=True),
        sa.CheckConstraint("rate > 0", name=op.f("ck_master_tariff_rate_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_tariff")),
        sa.UniqueConstraint(
            "code", "min_va", "effective_from", name=op.f("uq_master_tariff_code_min_va_effective_from")
        ),
    )
    op.create_index("ix_master_tariff_code_band", "master_tariff", ["code", "min_va"], unique=False)
    op.create_table(
        "master_meter",
        sa.Column("number", sa.String(length=11), nullable=False),
        sa.Column("idpel", sa.String(length=12), nullable=False),
        sa.Column("holder_name", sa.String(length=120), nullable=False),
        sa.Column("tariff_code", sa.String(length=16), nullable=False),
        sa.Column("power_va", sa.BigInteger(), nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("instalment", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code"], ["master_region.code"], name=op.f("fk_master_meter_region_code_master_region")
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_master_meter")),
        sa.UniqueConstraint("idpel", name=op.f("uq_master_meter_idpel")),
    )
    op.create_table(
        "master_ppj_rule",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("region_code", sa.String(length=16), nullable=False),
        sa.Column("rate", sa.BigInteger(), nullable=False),
        sa.Column("tariff_classes", sa.String(length=200), nullable=False),
        sa.Column("min_va", sa.BigInteger(), nullable=False),
        sa.Column("max_va", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.CheckConstraint("rate >= 0 AND rate <= 100000", name=op.f("ck_master_ppj_rule_rate_range")),
        sa.ForeignKeyConstraint(
            ["region_code"],
            ["master_region.code"],
            name=op.f("fk_master_ppj_rule_region_code_master_region"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_ppj_rule")),
    )
    op.create_index("ix_master_ppj_rule_region_code", "master_ppj_rule", ["region_code"], unique=False)
    op.create_table(
        "master_saved_meter",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("meter_number", sa.String(length=11), nullable=False),
        sa.Column("alias", sa.String(length=60), nullable=True),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_number"], ["master_meter.number"], name=op.f("fk_master_saved_meter_meter_number_master_meter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_master_saved_meter")),
        sa.UniqueConstraint("customer_id", "meter_number", name=op.f("uq_master_saved_meter_customer_id_meter_number")),
    )
    op.create_index(op.f("ix_master_saved_meter_customer_id"), "master_saved_meter", ["customer_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_master_saved_meter_customer_id"), table_name="master_saved_meter")
    op.drop_table("master_saved_meter")
    op.drop_index("ix_master_ppj_rule_region_code", table_name="master_ppj_rule")
    op.drop_table("master_ppj_rule")
    op.drop_table("master_meter")
    op.drop_index("ix_master_tariff_code_band", table_name="master_tariff")
    op.drop_table("master_tariff")
    op.drop_table("master_stamp_duty_rule")
    op.drop_table("master_region")
    op.drop_table("master_denomination")
    op.drop_table("master_channel")
