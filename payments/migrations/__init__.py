"""Alembic migrations of the payment provider stand-in."""
