"""Alembic migration history of the transactions subgraph (run by setrum_common.migrations)."""
