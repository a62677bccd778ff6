"""Alembic migration history of the master subgraph (run by setrum_common.migrations)."""
