"""Fixtures over the "shop" subgraphs, shared by the router's execution/ and e2e/ tests: fresh apps per
test, and the journal of the requests they received, in arrival order."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.subgraph_apps import SubgraphApp, share_journal
from tests.fixtures.subgraph_apps.shop import create_apps


@pytest.fixture
def apps() -> dict[str, SubgraphApp]:
    apps = create_apps()
    share_journal(apps)
    return apps


@pytest.fixture
def journal(apps: dict[str, SubgraphApp]) -> list[tuple[str, dict[str, Any]]]:
    journal = apps["accounts"].journal
    assert journal is not None  # share_journal gave every app the same list
    return journal
