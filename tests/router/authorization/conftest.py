"""The ``authorization`` set over real HTTP (see tests/router/e2e/conftest.py for ``run_set``)."""

from tests.router.e2e.conftest import http_server, run_set

__all__ = ["http_server", "run_set"]
