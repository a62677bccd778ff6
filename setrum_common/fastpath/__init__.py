"""Our measured fast paths, each beside the stock-library path it replaces.

Three hot spots bypass a library's own machinery because it cost more CPU than the work itself:

=================  =========================================  ===========================================
module             fast path (``SETRUM_FASTPATH=on``)          stock path (``SETRUM_FASTPATH=off``)
=================  =========================================  ===========================================
:mod:`.sqlite`     SQLite calls on the event loop's thread,   SQLAlchemy's aiosqlite dialect as shipped
                   on SQLAlchemy's private aiosqlite adapter  (a worker thread per connection)
:mod:`.http`       our keep-alive HTTP/1.1 pool              ``httpx.AsyncClient`` on httpcore
                   (:mod:`.http11`, asyncio protocols)
:mod:`.graphql`    graphql-core ``execute`` on strawberry's   strawberry's ASGI view
                   private compiled schema
=================  =========================================  ===========================================

Both paths of each pair answer the same contract (the same tests run against both:
``tests/common/fastpath/``). The private interfaces used are fenced by upper bounds in
``pyproject.toml``, and CI runs those tests against the newest versions the bounds allow.
Turning the fast paths off is the first thing to try after a dependency upgrade misbehaves.
"""

from __future__ import annotations

import os
from typing import Literal

__all__ = ["FASTPATH_DESCRIPTION", "FASTPATH_ENV", "FastPathMode", "fastpath_enabled"]

FASTPATH_ENV = "SETRUM_FASTPATH"
FastPathMode = Literal["on", "off"]
FASTPATH_DESCRIPTION = (
    "on: our measured fast paths (inline SQLite, HTTP/1.1 pool, GraphQL short path); off: the stock libraries"
)


def fastpath_enabled(mode: str | None = None) -> bool:
    """Whether the fast paths are on: ``mode`` if given, else ``SETRUM_FASTPATH`` (default on)."""
    value = (mode if mode is not None else os.environ.get(FASTPATH_ENV, "on")).strip().lower()
    if value not in ("on", "off"):
        raise ValueError(f"{FASTPATH_ENV} must be 'on' or 'off', not {value!r}")
    return value == "on"
