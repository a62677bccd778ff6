"""Master's timestamps become ``timestamptz``, the UTC column type every service uses.

Master stored naive UTC in ``timestamp without time zone`` on PostgreSQL. Every value was UTC,
so each column is converted reading its values ``AT TIME ZONE 'UTC'`` (the instants stay the
same). SQLite has one DATETIME type and keeps naive UTC text either way: nothing to do there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> its timestamp columns and whether each is nullable
_COLUMNS = {
    "master_tariff": (("effective_from", False), ("effective_to", True)),
    "master_meter": (("created_at", False), ("updated_at", False)),
    "master_saved_meter": (("saved_at", False),),
}


def _convert(*, aware: bool) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in _COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(
                table,
                column,
                type_=sa.DateTime(timezone=aware),
                existing_type=sa.DateTime(timezone=not aware),
                existing_nullable=nullable,
                # naive -> aware reads the value as UTC; aware -> naive writes it as UTC
                postgresql_using=f"{column} AT TIME ZONE 'UTC'",
            )


def upgrade() -> None:
    _convert(aware=True)


def downgrade() -> None:
    _convert(aware=False)
