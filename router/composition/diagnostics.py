"""Composition diagnostics: errors (composition fails) and hints (it succeeds).

Codes follow Apollo Federation's published error/hint codes so messages can be looked up in its docs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CompositionError", "CompositionHint"]


@dataclass(frozen=True)
class _Diagnostic:
    code: str
    message: str
    subgraph: str | None = None
    type_name: str | None = None
    field_name: str | None = None

    @property
    def location(self) -> str:
        """`subgraph.Type.field` with the known parts (`-` when nothing is known)."""
        parts = [p for p in (self.subgraph, self.type_name, self.field_name) if p]
        return ".".join(parts) or "-"

    def __str__(self) -> str:
        return f"[{self.code}] {self.location}: {self.message}"


@dataclass(frozen=True)
class CompositionError(_Diagnostic):
    """One broken composition rule, located as precisely as we can."""


@dataclass(frozen=True)
class CompositionHint(_Diagnostic):
    """Something suspicious that does not stop composition (dropped optional argument, ...)."""
