"""One way to close what may or may not need closing: an async iterator that is an async generator (a
subscription's event stream), or a client passed in whose type does not promise ``aclose``."""

from __future__ import annotations

__all__ = ["aclose"]


async def aclose(resource: object) -> None:
    """Await ``resource.aclose()`` when it has one; anything else is left as it is. The typed alternative,
    ``AsyncIterator``, does not declare ``aclose``, which is why callers used to need a ``type: ignore``."""
    close = getattr(resource, "aclose", None)
    if close is not None:
        await close()
