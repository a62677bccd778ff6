"""Fetch steps: the nodes of the fetch DAG the walker builds (docs/router.md §3.2 Fetch steps)."""

from __future__ import annotations

from . import query_plan as p
from .selections import OSet

__all__ = ["FetchStep", "Condition"]

#: ``(variable, expected)``: the step runs when ``$variable == expected``
#: (``@include(if: $v)`` -> ``("v", True)``, ``@skip(if: $v)`` -> ``("v", False)``).
Condition = tuple[str, bool]


class FetchStep:
    __slots__ = (
        "id",
        "graph",
        "kind",
        "operation_kind",
        "paths",
        "sel",
        "req",
        "deps",
        "variables",
        "conds",
        "input_rewrites",
        "group",
        "root_conds",
        "context",
        "context_types",
    )

    def __init__(
        self,
        id: int,
        graph: str,
        kind: str,
        *,
        operation_kind: p.OperationKind = "query",
        path: tuple[str, ...] = (),
        conds: tuple[Condition, ...] = (),
        group: int = 0,
    ) -> None:
        self.id = id
        self.graph = graph
        self.kind = kind  # "root" | "entity" | "reentry" (a root query merged below the root)
        self.operation_kind = operation_kind
        self.paths: list[tuple[str, ...]] = [path]
        self.sel = OSet()  # root: the root selection set; entity: the _entities selection set
        self.req = OSet()  # entity: the representation selection (``... on T { __typename key }``)
        self.deps: set[FetchStep] = set()
        self.variables: set[str] = set()
        self.conds = conds
        self.input_rewrites: list[p.FetchRewrite] = []
        self.group = group
        #: root steps: the condition set shared by every root field (None = not yet known)
        self.root_conds: tuple[Condition, ...] | None = None
        #: @fromContext arguments filled per representation, and each one's variable type
        self.context: list[p.ContextValue] = []
        self.context_types: dict[str, str] = {}

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Step {self.id} {self.graph} {self.kind} {self.paths}>"
