"""The supergraph stage: load a composed supergraph into typed planner tables + the API schema.

Entry point: :func:`load_supergraph`.
"""

from __future__ import annotations

from router.errors import SupergraphError

from .loader import load_supergraph
from .model import FieldInfo, FieldInGraph, KeyInfo, SubgraphInfo, Supergraph, TypeInfo

__all__ = [
    "load_supergraph",
    "Supergraph",
    "SupergraphError",
    "SubgraphInfo",
    "TypeInfo",
    "FieldInfo",
    "FieldInGraph",
    "KeyInfo",
]
