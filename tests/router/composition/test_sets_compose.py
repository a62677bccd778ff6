"""Every purpose-built subgraph set (tests/fixtures/subgraph_sets) composes with our composer too: the sets are valid
federation (Apollo's composer accepts each), so a refusal here is a composer bug or an invalid set."""

from __future__ import annotations

import pytest

from tests.fixtures.subgraph_apps.sets import SETS, our_supergraph_sdl


@pytest.mark.parametrize("set_name", SETS)
def test_set_composes_with_our_composer(set_name: str) -> None:
    assert our_supergraph_sdl(set_name).startswith("schema")
