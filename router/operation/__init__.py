"""The operation stage: normalise a (validated) client operation for planning.

Entry point: :func:`normalize_operation`.
"""

from __future__ import annotations

from .normalize import DEFAULT_MAX_SELECTIONS, normalize_operation
from .selection_tree import Field, InlineFragment, NormalizedOperation, Selection

__all__ = [
    "normalize_operation",
    "NormalizedOperation",
    "Field",
    "InlineFragment",
    "Selection",
    "DEFAULT_MAX_SELECTIONS",
]
