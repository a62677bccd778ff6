"""Attacks on the services, tried through their public interfaces (issue 11)."""

from tests.biller.conftest import biller, clock, database_url, settings  # noqa: F401  (the biller fixtures)
