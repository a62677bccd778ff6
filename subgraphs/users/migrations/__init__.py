"""Alembic migration history of the users subgraph (run by setrum_common.migrations)."""
