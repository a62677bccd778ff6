"""`schema/` is checked in: every subgraph SDL and the composed supergraph must match the code."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from router.composition import compose
from router.composition.config import load_config, load_sources
from setrum_common.service_app import print_sdl

SCHEMA = Path(__file__).resolve().parents[2] / "schema"


@pytest.mark.parametrize("name", ["users", "master", "transactions"])
def test_subgraph_sdl_is_current(name: str) -> None:
    schema = importlib.import_module(f"subgraphs.{name}.schema").schema
    assert (SCHEMA / f"{name}.graphql").read_text() == print_sdl(schema), (
        f"run: python -m subgraphs.{name} --print-sdl > schema/{name}.graphql"
    )


def test_supergraph_is_the_composition_of_the_checked_in_subgraphs() -> None:
    result = compose(load_sources(load_config(SCHEMA / "supergraph.yaml")))
    assert not result.errors, result.errors
    assert (SCHEMA / "supergraph.graphql").read_text() == result.supergraph_sdl, "run: python -m router compose"
