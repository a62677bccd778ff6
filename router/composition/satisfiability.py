"""SATISFIABILITY_ERROR: every API field reachable from a root must be resolvable (notes §5.1 step 4)."""

from __future__ import annotations

from .errors import CompositionError
from .supergraph_model import Supergraph

__all__ = ["check_satisfiability"]


def check_satisfiability(sg: Supergraph) -> list[CompositionError]:
    return []
