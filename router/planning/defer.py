"""Planning with ``@defer``: a primary plan plus one plan per active ``@defer`` site
(docs/router.md §10 @defer and incremental delivery).

:class:`DeferWalker` is the ordinary walker with one change: a deferred fragment is not planned in
the fetch that reaches its object. At the root its fields get root fetches of their own; below the
root the walker jumps into a subgraph through an entity key (into the same subgraph when it can
resolve the fragment, so ``_entities`` fetches what the parent fetch would have), and the key fields
are added to the parent fetch. Every fetch created for a fragment belongs to its site; a fragment
nested in another belongs to the inner site. When no key leads anywhere (a value type), the
fragment's fields are fetched with their parent, as Apollo Router does, and only delivered later.

The steps are then assembled per owner: the primary plan from the unowned steps, and one plan per
site from its own steps, their dependencies on earlier parts dropped (those parts have run by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import ArgumentNode, DirectiveNode, DocumentNode, NameNode, VariableNode

from router.defer.sites import DEFER_ID_ARG

from ..operation.normalize import DEFAULT_MAX_SELECTIONS
from ..operation.selection_tree import InlineFragment, NormalizedOperation, Selection
from ..supergraph.model import Supergraph
from .assemble import assemble_plan
from .planner import plannable_operation, walk
from .query_plan import PlanNode, QueryPlan
from .steps import Condition, FetchStep
from .walker import _INF, DEFAULT_MAX_STEPS, DEFAULT_MAX_WORK, Pos, Walker

__all__ = ["DeferWalker", "DeferredPlan", "build_deferred_plan"]


@dataclass(frozen=True, slots=True)
class DeferredPlan:
    """``primary`` runs first; ``parts[site]`` runs once the parts its site is nested in have run
    (None: the site's fields came with an earlier part and only need delivering)."""

    primary: QueryPlan
    parts: dict[int, PlanNode | None]


def _site_of(sel: Selection) -> int | None:
    if not isinstance(sel, InlineFragment):
        return None
    for d in sel.directives:
        if d.name.value == "defer":
            for a in d.arguments or ():
                if a.name.value == DEFER_ID_ARG:
                    return int(getattr(a.value, "value", 0))
    return None


def _inner(frag: InlineFragment, type_condition: str | None) -> tuple[Selection, ...]:
    """The fragment's selections without its ``@defer`` (other directives stay on a wrapper)."""
    others = tuple(d for d in frag.directives if d.name.value != "defer")
    if not others and type_condition is None:
        return frag.selections
    return (InlineFragment(type_condition, others, frag.selections),)


def _cond_directive(cond: Condition) -> DirectiveNode:
    name, expected = cond
    arg = ArgumentNode(name=NameNode(value="if"), value=VariableNode(name=NameNode(value=name)))
    return DirectiveNode(name=NameNode(value="include" if expected else "skip"), arguments=(arg,))


class DeferWalker(Walker):
    def __init__(self, supergraph: Supergraph, operation: NormalizedOperation, labels: frozenset[str], **kw: Any):
        super().__init__(supergraph, operation, labels, **kw)
        self.owner: dict[int, int] = {}  # step id -> the site it was created for
        self.site_roots: dict[int, list[FetchStep]] = {}
        self.sites: list[int] = []  # in planning order
        self._root_defers: list[tuple[InlineFragment, tuple[Condition, ...]]] = []

    # -- root-level fragments: root fetches of their own ---------------------------------
    def walk(self) -> None:
        super().walk()
        i = 0
        while i < len(self._root_defers):  # nested root-level sites are appended while planning
            frag, conds = self._root_defers[i]
            i += 1
            self._plan_root_defer(frag, conds)

    def _root_entries(self, selections: tuple[Selection, ...], conds: tuple[Condition, ...]) -> Any:
        kept: list[Selection] = []
        for sel in selections:
            if _site_of(sel) is not None and isinstance(sel, InlineFragment):
                self._root_defers.append((sel, conds))
            else:
                kept.append(sel)
        yield from super()._root_entries(tuple(kept), conds)

    def _plan_root_defer(self, frag: InlineFragment, conds: tuple[Condition, ...]) -> None:
        site = _site_of(frag)
        assert site is not None
        selections = _inner(frag, None)
        if conds:
            selections = (InlineFragment(None, tuple(_cond_directive(c) for c in conds), selections),)
        start = len(self.steps)
        roots, children, saved = self.roots, self._children, self.op.selections
        self.roots, self._children, self.op.selections = [], {}, selections
        try:
            super().walk()
            self.site_roots.setdefault(site, []).extend(self.roots)
        finally:
            self.roots, self._children, self.op.selections = roots, children, saved
        self._own(start, site)

    # -- fragments below the root: an entity jump of their own ----------------------------
    def plan_at(self, pos: Pos, selections: tuple[Selection, ...]) -> set[FetchStep]:
        sg = self.sg
        deferred = [s for s in selections if isinstance(s, InlineFragment) and _site_of(s) is not None]
        if not deferred:
            return super().plan_at(pos, selections)
        if sg.is_abstract(pos.type) and not sg.is_interface_object(pos.step.graph, pos.type):
            # Per runtime type: the fragment reaches the walker again at each concrete position.
            spread: list[Selection] = []
            for s in selections:
                if s in deferred and isinstance(s, InlineFragment) and s.type_condition in (None, pos.type):
                    possible = sorted(sg.possible_types(pos.step.graph, pos.type))
                    spread.extend(InlineFragment(x, s.directives, s.selections) for x in possible)
                else:
                    spread.append(s)
            return super().plan_at(pos, tuple(spread))
        rest = tuple(s for s in selections if not any(s is d for d in deferred))
        pos.target.typename()  # the parent's selection stays valid when everything in it is deferred
        producers = super().plan_at(pos, rest) if rest else {pos.step}
        for frag in deferred:
            assert isinstance(frag, InlineFragment)
            tc = frag.type_condition
            if tc and tc != pos.type and pos.type not in sg.super_possible_types(tc):
                continue
            self._plan_defer(pos, frag)
        return producers

    def _plan_defer(self, pos: Pos, frag: InlineFragment) -> None:
        site = _site_of(frag)
        assert site is not None
        selections = _inner(frag, None)
        target = self._defer_target(pos, selections)
        if target is None:  # no key leads anywhere: fetched with the parent, delivered later
            super().plan_at(pos, selections)
            return
        start = len(self.steps)
        children = self._children
        self._children = {}  # never share a fetch with the primary part (or another site)
        try:
            self._jump(pos, target, pos.type, [], selections)
        finally:
            self._children = children
        self._own(start, site)

    def _defer_target(self, pos: Pos, selections: tuple[Selection, ...]) -> str | None:
        """The subgraph to jump into for a deferred fragment at ``pos``: the cheapest that resolves it
        through a key reachable from the parent's subgraph, preferring the parent's own."""
        sg, graph, t = self.sg, pos.step.graph, pos.type
        best: tuple[int, ...] | None = None
        choice: str | None = None
        for g in sg.subgraphs:
            self.tick()
            if not sg.keys(g, t):
                continue
            route = self.route(graph, t, g, t)
            if route is None:
                continue
            c = self.cost(g, t, selections)
            if c >= _INF:
                continue
            score = (c, 0 if g == graph else 1, len(route), sg.graph_order.get(g, 0))
            if best is None or score < best:
                best, choice = score, g
        return choice

    def _own(self, start: int, site: int) -> None:
        """Steps created since ``start`` belong to ``site`` unless a nested site claimed them."""
        if site not in self.sites:
            self.sites.append(site)
        for step in self.steps[start:]:
            self.owner.setdefault(step.id, site)


def build_deferred_plan(
    supergraph: Supergraph,
    document: DocumentNode,
    operation_name: str | None = None,
    *,
    override_labels: frozenset[str] = frozenset(),
    max_work: int = DEFAULT_MAX_WORK,
    max_steps: int = DEFAULT_MAX_STEPS,
    max_selections: int = DEFAULT_MAX_SELECTIONS,
) -> DeferredPlan:
    """Plan ``document`` (tagged, with only the active ``@defer`` s left in it; see
    :mod:`router.defer.sites`) as a primary plan and one plan per site."""
    operation = plannable_operation(supergraph, document, operation_name, max_selections)
    walker = DeferWalker(supergraph, operation, frozenset(override_labels), max_work=max_work, max_steps=max_steps)
    walk(walker)
    owner = walker.owner
    name, var_defs = operation.name, operation.variable_definitions
    primary_steps = [s for s in walker.steps if s.id not in owner]
    primary = assemble_plan(primary_steps, walker.roots, name, var_defs, supergraph=supergraph)
    if walker.enums.checks:
        primary.extra["enum_checks"] = walker.enums.checks
    parts: dict[int, PlanNode | None] = {}
    for site in walker.sites:
        steps = [s for s in walker.steps if owner.get(s.id) == site]
        for s in steps:
            s.deps = {d for d in s.deps if owner.get(d.id) == site}
        roots = walker.site_roots.get(site, [])
        parts[site] = assemble_plan(steps, roots, name, var_defs, supergraph=supergraph).node if steps else None
    return DeferredPlan(primary, parts)
