"""Composition: subgraph SDLs -> a standard Federation v2 supergraph SDL, plus a breaking-change diff.

Entry points: `compose(subgraphs) -> CompositionResult`; the CLI commands live in `compose_cli.py`
(`compose_command`) and `diff.py` (`diff_command`, `diff_schemas`).
"""

from __future__ import annotations

from .compose import CompositionResult, compose
from .diagnostics import CompositionError, CompositionHint
from .subgraph_model import SubgraphSource

__all__ = ["CompositionError", "CompositionHint", "CompositionResult", "SubgraphSource", "compose"]
