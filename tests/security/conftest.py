"""Attacks on the services, tried through their public interfaces (issue 11)."""

from tests.biller.conftest import biller, clock, database_url, settings  # noqa: F401  (the biller fixtures)
from tests.e2e.conftest import api, system  # noqa: F401  (the real system behind the router)
from tests.payments.conftest import backend, pair  # noqa: F401  (the provider and transactions, wired)
