"""The garbage collector tuned for a server that has finished starting.

Measured on the router (bench ``edgecost``, gc callbacks timing each collection): with CPython's
defaults a full collection walked every object the process had made at start-up (the imported
modules, the supergraph, its schema and plans: ~90,000 tracked objects, ~125,000 once the shared
store loads SQLAlchemy), ran every second or so under load because each in-flight request's objects
get promoted to the oldest generation, and took a quarter of the router's CPU; the larger heap of a
router with every edge feature on made each of them ~40 % dearer. None of those start-up objects
ever becomes garbage, so :func:`settle` moves them out of the collector's sight (``gc.freeze``), and
collects the youngest generation less often: a request's objects die by reference counting, the
young-generation collections of the default threshold (700) mostly walked live requests in flight.
Cyclic garbage is still collected, a little later.

A frozen object that later becomes garbage is never collected, so whatever replaces start-up state
(a hot-reloaded supergraph's gateway replacing the first one) calls :func:`thaw` first.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_THRESHOLD", "settle", "thaw"]

# Net new container objects before a young-generation collection (CPython's default: 700).
YOUNG_THRESHOLD = 10_000


def settle(young_threshold: int = YOUNG_THRESHOLD) -> None:
    """Once start-up is done: collect what start-up left behind, freeze the rest, raise the
    young generation's threshold (the older generations' stay as they are)."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, middle, oldest)


def thaw() -> None:
    """Give frozen objects back to the collector (they join the oldest generation), so start-up
    state being replaced is freed; nothing to do when :func:`settle` never ran."""
    if gc.get_freeze_count():
        gc.unfreeze()
