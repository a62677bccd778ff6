"""The operation stage: normalise a (validated) client operation for planning.

Entry point: :func:`normalize_operation`.
"""

from __future__ import annotations

from .errors import OperationError
from .model import Field, InlineFragment, NormalizedOperation, Selection
from .normalize import DEFAULT_MAX_SELECTIONS, normalize_operation

__all__ = [
    "normalize_operation",
    "NormalizedOperation",
    "Field",
    "InlineFragment",
    "Selection",
    "OperationError",
    "DEFAULT_MAX_SELECTIONS",
]
