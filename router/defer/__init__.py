"""``@defer``: incremental delivery (docs/router.md §10 @defer and incremental delivery).

``sites``    finds every ``@defer`` in a validated operation, tags it with an id, records where it
             sits in the response, and decides per request which ones are active;
``planning`` (in :mod:`router.planning.defer`) splits the plan into a primary part and one part
             per active ``@defer``; ``delivery`` (in :mod:`router.execution.incremental`) runs the
             parts and builds the incremental payloads; :mod:`router.http.multipart` writes them
             as ``multipart/mixed``.

This package only holds the operation-level bookkeeping, so the projection and the planner can
import it without import cycles.
"""

from __future__ import annotations

from .sites import (
    DEFER_ID_ARG,
    DeferInfo,
    DeferSite,
    Location,
    active_sites,
    defer_id,
    find_defers,
    strip_defers,
)

__all__ = [
    "DEFER_ID_ARG",
    "DeferInfo",
    "DeferSite",
    "Location",
    "active_sites",
    "defer_id",
    "find_defers",
    "strip_defers",
]
