"""Composition: subgraph SDLs -> a standard Federation v2 supergraph SDL, plus a breaking-change diff.

Entry points: `compose(subgraphs) -> CompositionResult`; the CLI commands live in `cli.py`
(`compose_command`) and `diff.py` (`diff_command`, `diff_schemas`).
"""

from __future__ import annotations

from .compose import CompositionResult, compose
from .errors import CompositionError, CompositionHint
from .model import SubgraphSource

__all__ = ["CompositionError", "CompositionHint", "CompositionResult", "SubgraphSource", "compose"]
