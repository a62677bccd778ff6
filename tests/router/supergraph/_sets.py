"""Fixture subgraph sets (shared with the planning tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from router.supergraph import Supergraph, load_supergraph

SETS = Path(__file__).resolve().parents[2] / "fixtures" / "subgraph_sets"


@cache
def supergraph(name: str) -> Supergraph:
    return load_supergraph((SETS / name / "supergraph.graphql").read_text())
