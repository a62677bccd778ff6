"""Errors raised at the subgraph edge.

SubgraphFetchError        transport failure, timeout, non-2xx status, or a body that is not
                          a JSON object; the executor turns it into one GraphQL error with
                          ``extensions.code = "SUBGRAPH_FETCH_FAILED"``.
"""

from __future__ import annotations

__all__ = ["SubgraphFetchError"]


class SubgraphFetchError(Exception):
    """A subgraph could not be reached or answered with something that is not GraphQL JSON."""

    def __init__(self, subgraph: str, reason: str, *, status_code: int | None = None) -> None:
        super().__init__(f"{subgraph}: {reason}")
        self.subgraph = subgraph
        self.reason = reason
        self.status_code = status_code

    def __repr__(self) -> str:
        return (
            f"SubgraphFetchError(subgraph={self.subgraph!r}, reason={self.reason!r}, status_code={self.status_code!r})"
        )
