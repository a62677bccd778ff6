"""Alembic migration history of the biller (run by setrum_common.migrations)."""
