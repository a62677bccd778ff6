"""Walk the normalised operation over the supergraph and build the fetch DAG
(docs/router.md §3.3 Field resolution to §3.10 Building the fetch DAG).

For every selection at a position (fetch step, response path, type, graph) the walker
decides: resolve it in the current graph, or jump through an entity key into another graph
(``_entities``), possibly chaining keys, satisfying ``@requires`` first, honouring
``@provides`` along the path. Graph choice is a bounded greedy search with look-ahead:
value-type subtrees must be resolvable in the chosen graph (you cannot jump out of them),
and among candidates the one leaving the fewest jumps in the subtree wins, ties broken by
the graph already being fetched and then by ``join__Graph`` order.

Every unit of work ticks a counter; over ``max_work`` the walk stops with
``PLANNING_LIMIT_EXCEEDED`` instead of running away.
"""

from __future__ import annotations

from typing import Any

from graphql import DirectiveNode, VariableNode

from router.errors import PlanningError, UnplannableRuntimeType

from ..operation.selection_tree import (
    Field,
    InlineFragment,
    NormalizedOperation,
    Selection,
)
from ..supergraph.model import KeyInfo, Supergraph
from . import query_plan as p
from .contexts import aliased, needs_own_fetch, sets_context, with_context_argument
from .enums import EnumGuard
from .selections import OField, OSet
from .steps import Condition, FetchStep

__all__ = ["Walker", "DEFAULT_MAX_WORK", "DEFAULT_MAX_STEPS"]

DEFAULT_MAX_WORK = 200_000
DEFAULT_MAX_STEPS = 2_000

Provided = dict[str, Any]  # field name or "... on T" -> nested Provided (or {} for leaves)
Hop = tuple[str, KeyInfo, str]  # (graph, key, type the key is on)
_INF = 10**9


def _conditions(directives: tuple[DirectiveNode, ...]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for d in directives:
        if d.name.value in ("skip", "include"):
            for a in d.arguments or ():
                if a.name.value == "if" and isinstance(a.value, VariableNode):
                    out.append((a.value.name.value, d.name.value == "include"))
    return tuple(out)


def _provided_from(selections: tuple[Selection, ...]) -> Provided:
    out: Provided = {}
    for s in selections:
        if isinstance(s, Field):
            out[s.name] = _provided_from(s.selections)
        else:
            key = f"... on {s.type_condition}" if s.type_condition else ""
            inner = _provided_from(s.selections)
            if key:
                out.setdefault(key, {}).update(inner)
            else:
                out.update(inner)
    return out


def _provided_for(provided: Provided | None, type_name: str) -> Provided | None:
    """The part of ``provided`` that applies to objects of ``type_name`` (member-specific
    ``... on X`` entries only to X)."""
    if provided is None:
        return None
    out = {k: v for k, v in provided.items() if not k.startswith("... on ")}
    out.update(provided.get(f"... on {type_name}", {}))
    return out


class Pos:
    """Where the walker is: which step, which selection set in it, at what type and path. ``level`` is the
    selection set ``target`` is merged into (itself, or the set whose inline fragments hold it): GraphQL's
    field-merging rule applies to a field and its fragments' fields together."""

    __slots__ = ("step", "target", "type", "path", "provided", "conds", "level")

    def __init__(
        self,
        step: FetchStep,
        target: OSet,
        type_name: str,
        path: tuple[str, ...],
        provided: Provided | None,
        conds: tuple[Condition, ...],
        level: OSet | None = None,
    ) -> None:
        self.step = step
        self.target = target
        self.type = type_name
        self.path = path
        self.provided = provided
        self.conds = conds
        self.level = target if level is None else level


class Walker:
    def __init__(
        self,
        supergraph: Supergraph,
        operation: NormalizedOperation,
        labels: frozenset[str],
        *,
        max_work: int = DEFAULT_MAX_WORK,
        max_steps: int = DEFAULT_MAX_STEPS,
        root_preference: str | None = None,
    ) -> None:
        self.sg = supergraph
        #: a graph preferred for shareable root fields among equally cheap ones (a whole-plan candidate)
        self.root_preference = root_preference
        self.op = operation
        self.labels = labels
        self.work_left = max_work
        self.max_steps = max_steps
        self.steps: list[FetchStep] = []
        self.roots: list[FetchStep] = []
        self._children: dict[tuple[Any, ...], FetchStep] = {}
        self._cost_memo: dict[tuple[Any, ...], int] = {}
        self._keepalive: list[object] = []  # memo keys use id(); keep those objects alive
        self._route_memo: dict[tuple[str, str, str, str], list[Hop] | None] = {}
        self._split_memo: dict[tuple[int, str, tuple[str, ...]], list[tuple[str, Field]] | None] = {}
        self._avail_memo: dict[tuple[str, str, str], bool] = {}
        self._provides_memo: dict[tuple[str, str, str], Provided | None] = {}
        self._alias_n = 0
        self.enums = EnumGuard(supergraph)
        self._requires_stack: set[tuple[str, str, str, tuple[str, ...]]] = set()
        self._pos_stack: list[Pos] = []  # object positions from the root down to the current one (@context)
        self._context_keys: dict[tuple[int, tuple[str, ...], str], tuple[str, set[FetchStep]]] = {}
        self._context_n = 0

    # -- bookkeeping -------------------------------------------------------------------
    def tick(self, n: int = 1) -> None:
        self.work_left -= n
        if self.work_left < 0:
            raise PlanningError(
                "Query planning exceeded its work limit; simplify the operation", "PLANNING_LIMIT_EXCEEDED"
            )

    def new_step(self, graph: str, kind: str, **kw: Any) -> FetchStep:
        if len(self.steps) >= self.max_steps:
            raise PlanningError(f"Query plan would need more than {self.max_steps} fetches", "PLANNING_LIMIT_EXCEEDED")
        step = FetchStep(len(self.steps), graph, kind, **kw)
        self.steps.append(step)
        return step

    # -- entry -------------------------------------------------------------------------
    def walk(self) -> None:
        root = self.op.root_type
        entries = list(self._root_entries(self.op.selections, ()))
        is_mutation = self.op.kind == "mutation"
        by_graph: dict[str, FetchStep] = {}
        current: FetchStep | None = None
        for f, conds in entries:
            self.tick()
            if f.name == "__typename" or f.name in ("__schema", "__type"):
                continue  # answered by the router itself
            graphs = self.sg.resolving_graphs(root, f.name, self.labels)
            if not graphs:
                raise PlanningError(f"No subgraph resolves {root}.{f.name}", "UNSATISFIABLE")
            if not is_mutation:
                graph = self._pick_graph(graphs, root, (f,), prefer=self.root_preference, used=set(by_graph))
                for g, part in self._root_parts(graphs, graph, f):
                    self._add_root_field(self._root_step(g, by_graph), part, conds)
                continue
            graph = self._pick_graph(graphs, root, (f,), prefer=current.graph if current else None)
            if current is None or current.graph != graph:
                current = self.new_step(graph, "root", operation_kind="mutation", group=len(self.roots))
                self.roots.append(current)
            self._add_root_field(current, f, conds)

    def _root_step(self, graph: str, by_graph: dict[str, FetchStep]) -> FetchStep:
        """The one root fetch of a query into ``graph``."""
        step = by_graph.get(graph)
        if step is None:
            step = by_graph[graph] = self.new_step(graph, "root", operation_kind=self.op.kind)
            self.roots.append(step)
        return step

    def _root_parts(self, graphs: list[str], graph: str, f: Field) -> list[tuple[str, Field]]:
        """``f`` for ``graph``; or, when no one graph resolves its whole (value-typed) subtree, one copy per graph
        holding requested fields, fetched in parallel and merged by position (docs/router.md §3.15)."""
        if f.selections:
            ret = self.sg.field_type_in_graph(graph, self.op.root_type, f.name) or ""
            if self.cost(graph, ret, f.selections) >= _INF:
                parts = self._split(graphs, self.op.root_type, f)
                if parts:
                    return parts
        return [(graph, f)]

    def _add_root_field(self, step: FetchStep, f: Field, conds: tuple[Condition, ...]) -> None:
        all_conds = conds + _conditions(f.directives)
        step.root_conds = all_conds if step.root_conds is None else tuple(c for c in step.root_conds if c in all_conds)
        target = step.sel
        for d_text in self._frag_dirs_for(conds):
            target = target.fragment(None, d_text).sub
        step.variables.update(name for name, _ in conds)  # the fragments' conditions are sent too
        self._add_field(Pos(step, target, self.op.root_type, (), None, conds, step.sel), f)

    def _root_entries(self, selections: tuple[Selection, ...], conds: tuple[Condition, ...]) -> Any:
        for sel in selections:
            if isinstance(sel, Field):
                yield sel, conds
            else:
                yield from self._root_entries(sel.selections, conds + _conditions(sel.directives))

    @staticmethod
    def _frag_dirs_for(conds: tuple[Condition, ...]) -> list[str]:
        return [f" @{'include' if v else 'skip'}(if: ${name})" for name, v in conds]

    # -- graph choice ------------------------------------------------------------------
    def _pick_graph(
        self,
        graphs: list[str],
        parent_type: str,
        fields: tuple[Field, ...],
        *,
        prefer: str | None = None,
        used: set[str] | frozenset[str] = frozenset(),
    ) -> str:
        best: tuple[int, int, int, int] | None = None
        choice = graphs[0]
        for g in graphs:
            c = sum(self.cost(g, parent_type, (f,)) for f in fields)
            score = (c, 0 if g == prefer else 1, 0 if g in used else 1, self.sg.graph_order.get(g, 0))
            if best is None or score < best:
                best, choice = score, g
        return choice  # even when infeasible: the walk then names the unsatisfiable field

    def cost(
        self, graph: str, type_name: str, selections: tuple[Selection, ...], provided: Provided | None = None
    ) -> int:
        """Jumps needed to resolve ``selections`` at ``type_name`` from ``graph`` (``_INF`` if
        impossible), counting fields ``provided`` along this path (``@provides``) as local.
        Memoised per plan; value-type subtrees must stay in the graph."""
        key = (
            graph,
            type_name,
            id(selections) if len(selections) != 1 else id(selections[0]),
            None if provided is None else id(provided),
        )
        got = self._cost_memo.get(key)
        if got is not None:
            return got
        self.tick()
        self._keepalive.append(selections)
        if provided is not None:
            self._keepalive.append(provided)
        self._cost_memo[key] = _INF  # cycle guard (recursive types)
        total = 0
        for sel in selections:
            if isinstance(sel, InlineFragment):
                total += self._fragment_cost(graph, type_name, sel, provided)
            elif sel.name != "__typename":
                total += self._field_cost(graph, type_name, sel, provided)
            if total >= _INF:
                total = _INF
                break
        self._cost_memo[key] = total
        return total

    def _fragment_cost(self, graph: str, type_name: str, sel: InlineFragment, provided: Provided | None) -> int:
        sg = self.sg
        tc = sel.type_condition or type_name
        if sg.is_abstract(type_name) and not sg.is_interface_object(graph, type_name) and tc != type_name:
            runtime = sg.possible_types(graph, type_name) & sg.super_possible_types(tc)
            return sum(self.cost(graph, x, sel.selections, _provided_for(provided, x)) for x in sorted(runtime))
        if tc == type_name or type_name in sg.super_possible_types(tc):
            return self.cost(graph, type_name, sel.selections, provided)
        return 0

    def _field_cost(self, graph: str, type_name: str, sel: Field, provided: Provided | None) -> int:
        sg = self.sg
        if provided is not None and sel.name in provided:
            if not sel.selections:
                return 0
            ret = sg.field_type_in_graph(graph, type_name, sel.name) or ""
            return self.cost(graph, ret, sel.selections, provided[sel.name] or None)
        if sg.resolvable(graph, type_name, sel.name, self.labels):
            total = 1 if needs_own_fetch(sg.field_in_graph(graph, type_name, sel.name)) else 0
            if sel.selections:
                ret = sg.field_type_in_graph(graph, type_name, sel.name) or ""
                sub = self.cost(graph, ret, sel.selections, self.provides_of(graph, type_name, sel.name))
                total += sub if sub < _INF else self._split_cost(graph, type_name, sel)
            return total
        if sg.is_abstract(type_name) and not sg.is_interface_object(graph, type_name):
            return sum(self.cost(graph, x, (sel,)) for x in sorted(sg.possible_types(graph, type_name)))
        others = [g for g in sg.resolving_graphs(type_name, sel.name, self.labels) if g != graph]
        others += [g for g, _ in sg.interface_object_sources(type_name, sel.name)]
        if type_name == sg.root_types.get("query"):
            reach = others  # re-entry: any graph's root resolves it, no key needed
        else:
            reach = [g for g in others if self.route(graph, type_name, g, self._target_type(type_name, sel.name, g))]
        if not reach:
            return _INF
        if not sel.selections:
            return 1
        return 1 + min(
            self.cost(
                g,
                sg.field_type_in_graph(g, type_name, sel.name) or "",
                sel.selections,
                self.provides_of(g, type_name, sel.name),
            )
            for g in reach
        )

    def provides_of(self, graph: str, type_name: str, field_name: str) -> Provided | None:
        """What ``@provides`` on this field in ``graph`` makes local below it (memoised)."""
        mk = (graph, type_name, field_name)
        if mk in self._provides_memo:
            return self._provides_memo[mk]
        fig = self.sg.field_in_graph(graph, type_name, field_name)
        got = _provided_from(fig.provides_selections) if fig is not None and fig.provides else None
        self._provides_memo[mk] = got
        return got

    def _target_type(self, type_name: str, field_name: str, graph: str) -> str:
        for g, iface in self.sg.interface_object_sources(type_name, field_name):
            if g == graph:
                return iface
        return type_name

    # -- keys and routes -----------------------------------------------------------------
    def key_available(self, graph: str, type_name: str, key: KeyInfo) -> bool:
        mk = (graph, type_name, key.fields)
        got = self._avail_memo.get(mk)
        if got is None:
            got = self._fields_available(graph, type_name, key.selections)
            self._avail_memo[mk] = got
        return got

    def _fields_available(self, graph: str, type_name: str, selections: tuple[Selection, ...]) -> bool:
        for s in selections:
            self.tick()
            if isinstance(s, InlineFragment):
                if not self._fields_available(graph, s.type_condition or type_name, s.selections):
                    return False
                continue
            if s.name == "__typename":
                continue
            if not self.sg.resolvable(graph, type_name, s.name, self.labels):
                fig = self.sg.field_in_graph(graph, type_name, s.name)
                # a key field of an extension (Fed1 ``extend type``) is local even if @external
                if fig is None or not any(k.extension for k in self.sg.keys(graph, type_name, resolvable_only=False)):
                    return False
            if s.selections:
                ret = self.sg.field_type_in_graph(graph, type_name, s.name) or ""
                if not self._fields_available(graph, ret, s.selections):
                    return False
        return True

    def route(self, src: str, type_name: str, dst: str, dst_type: str) -> list[Hop] | None:
        """Entity hops from ``src`` to ``dst`` for an object of ``type_name`` (BFS over keys)."""
        mk = (src, type_name, dst, dst_type)
        if mk in self._route_memo:
            return self._route_memo[mk]
        self.tick()
        result: list[Hop] | None = None
        frontier: list[tuple[str, list[Hop]]] = [(src, [])]
        seen = {src}
        while frontier and result is None:
            nxt: list[tuple[str, list[Hop]]] = []
            for x, hops in frontier:
                for k in self.sg.keys(dst, dst_type):
                    if self.key_available(x, type_name, k):
                        result = [*hops, (dst, k, dst_type)]
                        break
                if result is not None:
                    break
                for y in self.sg.subgraphs:
                    if y in seen or y == dst or not self.sg.graph_has_type(y, type_name):
                        continue
                    for k in self.sg.keys(y, type_name):
                        if self.key_available(x, type_name, k):
                            seen.add(y)
                            nxt.append((y, [*hops, (y, k, type_name)]))
                            break
            frontier = nxt
        self._route_memo[mk] = result
        return result

    # -- the walk ------------------------------------------------------------------------
    def plan_at(self, pos: Pos, selections: tuple[Selection, ...]) -> set[FetchStep]:
        sg = self.sg
        graph = pos.step.graph
        if sg.is_abstract(pos.type) and not sg.is_interface_object(graph, pos.type):
            return self._plan_abstract(pos, selections)
        if sg.is_interface_object(graph, pos.type):
            typed = tuple(
                s
                for s in selections
                if (isinstance(s, Field) and s.name == "__typename")
                or (isinstance(s, InlineFragment) and s.type_condition not in (None, pos.type))
            )
            if typed:
                rest = tuple(s for s in selections if s not in typed)
                return self.plan_at(pos, rest) | self._resolve_real_type(pos, typed)
        producers = {pos.step}
        pending: list[Field] = []
        for sel in selections:
            self.tick()
            if isinstance(sel, InlineFragment):
                tc = sel.type_condition
                if tc and tc != pos.type and pos.type not in sg.super_possible_types(tc):
                    continue
                if sel.directives:
                    frag = pos.target.fragment(None, sel.dirs_text)
                    pos.step.variables.update(sel.variables)
                    sub = Pos(
                        pos.step,
                        frag.sub,
                        pos.type,
                        pos.path,
                        pos.provided,
                        pos.conds + _conditions(sel.directives),
                        pos.level,
                    )
                    producers |= self.plan_at(sub, sel.selections)
                else:
                    producers |= self.plan_at(pos, sel.selections)
                continue
            if sel.name == "__typename":
                f = pos.target.field("__typename", sel.alias, "", sel.dirs_text)
                if f is None:
                    raise PlanningError(f"Response key conflict on {sel.response_key}", "UNSATISFIABLE")
                pos.step.variables.update(sel.variables)
                continue
            producers |= self._place_field(pos, sel, pending)
        if pending:
            producers |= self._plan_jumps(pos, pending)
        return producers

    def _place_field(self, pos: Pos, f: Field, pending: list[Field]) -> set[FetchStep]:
        """Add ``f`` here, or leave it (or the parts of it other graphs resolve) in ``pending`` for a jump."""
        parts = self._split_here(pos, f)
        if parts is None:
            parts = [(pos.step.graph if self._is_local(pos, f) else "", f)]
        producers: set[FetchStep] = set()
        for graph, part in parts:
            if graph == pos.step.graph:
                producers |= self._add_field(pos, part)
            else:
                pending.append(part)
        return producers

    def _split_here(self, pos: Pos, f: Field) -> list[tuple[str, Field]] | None:
        """A value-typed field whose sub-selections no single graph resolves, at an entity: split it per graph
        (docs/router.md §3.15); None when one graph can take it whole (or nothing can)."""
        sg = self.sg
        if not f.selections or (pos.provided is not None and f.name in pos.provided):
            return None
        graphs = sg.resolving_graphs(pos.type, f.name, self.labels)
        for g in graphs:
            if self.cost(g, sg.field_type_in_graph(g, pos.type, f.name) or "", f.selections) < _INF:
                return None
        return self._split(graphs, pos.type, f)

    def _split(self, graphs: list[str], parent_type: str, f: Field) -> list[tuple[str, Field]] | None:
        """Copies of ``f``, one per graph, each re-selecting the path below ``f`` with the sub-selections that graph
        resolves (nested value types are split the same way); the executor deep-merges the answers, lists by
        position (docs/router.md §3.15). None when some sub-selection fits no graph."""
        mk = (id(f), parent_type, tuple(graphs))
        if mk in self._split_memo:
            return self._split_memo[mk]
        self._keepalive.append(f)
        self._split_memo[mk] = None  # cycle guard
        groups: dict[str, list[Selection]] = {}
        for sel in f.selections:
            self.tick()
            placed = self._place_selection(graphs, parent_type, f.name, sel, groups)
            if placed is None:
                return None
            for g, part in placed:
                groups.setdefault(g, []).append(part)
        result = [(g, Field(f.name, f.alias, f.arguments, f.directives, tuple(sels))) for g, sels in groups.items()]
        self._split_memo[mk] = result
        return result

    def _place_selection(
        self, graphs: list[str], parent_type: str, field_name: str, sel: Selection, groups: dict[str, list[Selection]]
    ) -> list[tuple[str, Selection]] | None:
        """The graph (among ``graphs``, resolving ``parent_type.field_name``) that takes ``sel`` whole, preferring
        fewer jumps, a graph already chosen, then ``join__Graph`` order; or ``sel`` split in turn."""
        best: tuple[int, int, int] | None = None
        choice = ""
        for g in graphs:
            ret = self.sg.field_type_in_graph(g, parent_type, field_name) or ""
            c = self.cost(g, ret, (sel,))
            score = (c, 0 if g in groups else 1, self.sg.graph_order.get(g, 0))
            if c < _INF and (best is None or score < best):
                best, choice = score, g
        if best is not None:
            return [(choice, sel)]
        if isinstance(sel, InlineFragment):
            return self._split_fragment(graphs, parent_type, field_name, sel)
        if not sel.selections or not graphs:
            return None
        ret = self.sg.field_type_in_graph(graphs[0], parent_type, field_name) or ""
        inner = [g for g in graphs if self.sg.resolvable(g, ret, sel.name, self.labels)]
        parts = self._split(inner, ret, sel)
        return None if parts is None else list(parts)

    def _split_fragment(
        self, graphs: list[str], parent_type: str, field_name: str, frag: InlineFragment
    ) -> list[tuple[str, Selection]] | None:
        """An inline fragment no one graph resolves whole: one copy per graph (same type condition and directives)
        holding the selections placed there."""
        groups: dict[str, list[Selection]] = {}
        for sel in frag.selections:
            placed = self._place_selection(graphs, parent_type, field_name, sel, groups)
            if placed is None:
                return None
            for g, part in placed:
                groups.setdefault(g, []).append(part)
        return [(g, InlineFragment(frag.type_condition, frag.directives, tuple(sels))) for g, sels in groups.items()]

    def _split_cost(self, graph: str, type_name: str, f: Field) -> int:
        """Jumps needed for ``f`` at ``type_name`` from ``graph`` when it must be split across graphs (``_INF`` when
        it cannot be): each other graph's part is reached through a key, or by its own root fetch at the root."""
        sg = self.sg
        at_root = type_name == self.op.root_type and self.op.kind == "query"
        parts = self._split(sg.resolving_graphs(type_name, f.name, self.labels), type_name, f)
        if parts is None:
            return _INF
        total = 0
        for g, part in parts:
            total += self.cost(g, sg.field_type_in_graph(g, type_name, f.name) or "", part.selections)
            if g != graph:
                if not at_root and self.route(graph, type_name, g, type_name) is None:
                    return _INF
                total += 1
        return min(total, _INF)

    def _is_local(self, pos: Pos, f: Field) -> bool:
        sg = self.sg
        graph = pos.step.graph
        if pos.provided is not None and f.name in pos.provided:
            return True
        if not sg.resolvable(graph, pos.type, f.name, self.labels):
            return False
        if needs_own_fetch(sg.field_in_graph(graph, pos.type, f.name)):
            return False  # always an entity fetch, even into the same graph
        if f.selections:
            ret = sg.field_type_in_graph(graph, pos.type, f.name) or ""
            if self.cost(graph, ret, f.selections, self.provides_of(graph, pos.type, f.name)) >= _INF:
                # Jump elsewhere only if some other graph can do better; otherwise stay and
                # let the walk below report the precise unsatisfiable field.
                return not any(
                    self.cost(
                        g,
                        sg.field_type_in_graph(g, pos.type, f.name) or "",
                        f.selections,
                        self.provides_of(g, pos.type, f.name),
                    )
                    < _INF
                    for g in sg.resolving_graphs(pos.type, f.name, self.labels)
                    if g != graph
                )
        return True

    def _add_field(self, pos: Pos, f: Field) -> set[FetchStep]:
        sg = self.sg
        graph = pos.step.graph
        composite = bool(f.selections)
        of = pos.target.field(f.name, f.alias, f.args_text, f.dirs_text, composite)
        if of is None:
            raise PlanningError(
                f"Response key '{f.response_key}' is used for different fields in one subgraph query",
                "UNSATISFIABLE",
            )
        pos.step.variables.update(f.variables)
        if f.arguments and self.enums.partial:
            self.enums.check_field(graph, pos.type, f.name, f.arguments)
        if not composite:
            return {pos.step}
        assert of.sub is not None
        ret = sg.field_type_in_graph(graph, pos.type, f.name) or ""
        provided: Provided | None = None
        if pos.provided is not None and f.name in pos.provided:
            provided = pos.provided[f.name] or None
        else:
            provided = self.provides_of(graph, pos.type, f.name)
        info = sg.field_info(pos.type, f.name)
        path = (*pos.path, f.response_key)
        if info is not None and info.is_list:
            path += ("@",)
        sub = Pos(pos.step, of.sub, ret, path, provided, pos.conds + _conditions(f.directives))
        self._pos_stack.append(sub)
        try:
            return self.plan_at(sub, f.selections)
        finally:
            self._pos_stack.pop()

    def _same_in_every_type(self, pos: Pos, f: Field, possible: frozenset[str] | set[str]) -> bool:
        """Can an interface field be asked at the interface level here? Only when every implementation this graph
        can return resolves it here too: after ``@override`` (or ``@external``) one implementation's copy may come
        from another graph, and the field is then planned per type (docs/router.md §3.9)."""
        if pos.provided is not None and f.name in pos.provided:
            return True
        graph = pos.step.graph
        for x in possible:
            if not self.sg.resolvable(graph, x, f.name, self.labels):
                return False
            if needs_own_fetch(self.sg.field_in_graph(graph, x, f.name)):
                return False
        return True

    def _plan_abstract(self, pos: Pos, selections: tuple[Selection, ...]) -> set[FetchStep]:
        sg = self.sg
        graph = pos.step.graph
        t = pos.type
        producers = {pos.step}
        pos.target.typename()
        possible = sg.possible_types(graph, t)
        by_type: dict[str, list[Selection]] = {}
        for sel in selections:
            self.tick()
            if isinstance(sel, Field):
                if sel.name == "__typename":
                    pos.target.field("__typename", sel.alias, "", sel.dirs_text)
                    continue
                if (
                    sg.kind(t) == "interface"
                    and self._is_local(pos, sel)
                    and self._same_in_every_type(pos, sel, possible)
                ):
                    producers |= self._add_field(pos, sel)
                else:
                    for x in possible:
                        by_type.setdefault(x, []).append(sel)
                continue
            tc = sel.type_condition
            if tc is None or tc == t:
                if sel.directives:
                    frag = pos.target.fragment(None, sel.dirs_text)
                    pos.step.variables.update(sel.variables)
                    conds = pos.conds + _conditions(sel.directives)
                    sub = Pos(pos.step, frag.sub, t, pos.path, pos.provided, conds, pos.level)
                    producers |= self._plan_abstract(sub, sel.selections)
                else:
                    producers |= self._plan_abstract(pos, sel.selections)
                continue
            for x in possible & sg.super_possible_types(tc):
                if sel.directives or tc != x:
                    by_type.setdefault(x, []).append(InlineFragment(None, sel.directives, sel.selections))
                else:
                    by_type.setdefault(x, []).extend(sel.selections)
        for x in sorted(by_type, key=lambda n: (sg.graph_order.get(n, 0), n)):
            frag = pos.target.fragment(x)
            sub = Pos(
                pos.step, frag.sub, x, (*pos.path, f"... on {x}"), _provided_for(pos.provided, x), pos.conds, pos.level
            )
            producers |= self.plan_at(sub, tuple(by_type[x]))
        return producers

    # -- entity jumps ----------------------------------------------------------------------
    def _plan_jumps(self, pos: Pos, pending: list[Field]) -> set[FetchStep]:
        """Group the fields ``pos``'s graph cannot resolve by the graph to jump to. Fields with
        fewer candidate graphs choose first, so a shareable field joins a jump that another
        field needs anyway instead of calling one more subgraph."""
        if pos.path and pos.type == self.sg.root_types.get("query"):
            return self._reenter(pos, pending)
        options = [(f, self._jump_candidates(pos, f)) for f in pending]
        chosen: dict[tuple[str, str], list[tuple[int, Field]]] = {}
        for i in sorted(range(len(options)), key=lambda n: len(options[n][1])):
            f, cands = options[i]
            self.tick()
            chosen.setdefault(self._choose_jump(pos, f, cands, pending, chosen), []).append((i, f))
        groups = {
            c: [f for _, f in sorted(items, key=lambda item: item[0])]
            for c, items in sorted(chosen.items(), key=lambda kv: min(i for i, _ in kv[1]))
        }
        producers: set[FetchStep] = set()
        for (g2, t2), fields in groups.items():
            for batch in self._requirement_batches(g2, t2, fields):
                producers |= self._jump(pos, g2, t2, batch)
        return producers

    def _reenter(self, pos: Pos, pending: list[Field]) -> set[FetchStep]:
        """Fields of ``Query`` below the root (under a field that returns ``Query``): ask the graph
        resolving each at its root, in a query fetch that merges at this path
        (docs/router.md §3.8 @override, shareable fields and root fields)."""
        pos.target.typename()  # keeps the parent's selection valid when every field is elsewhere
        producers: set[FetchStep] = set()
        used: set[str] = set()
        for f in pending:
            self.tick()
            graphs = self.sg.resolving_graphs(pos.type, f.name, self.labels)
            if not graphs:
                raise PlanningError(f"No subgraph resolves {pos.type}.{f.name}", "UNSATISFIABLE")
            g = self._pick_graph(graphs, pos.type, (f,), used=used)
            used.add(g)
            ck = ("reentry", pos.step.id, g, pos.path, pos.conds)
            step = self._children.get(ck)
            if step is None:
                step = self.new_step(g, "reentry", path=pos.path, conds=pos.conds)
                step.deps.add(pos.step)
                self._children[ck] = step
            producers |= self._add_field(Pos(step, step.sel, pos.type, pos.path, None, pos.conds), f)
        return producers

    def _jump_candidates(self, pos: Pos, f: Field) -> list[tuple[str, str]]:
        sg = self.sg
        graph, t = pos.step.graph, pos.type
        cands: list[tuple[str, str]] = [(g, t) for g in sg.resolving_graphs(t, f.name, self.labels)]
        cands += list(sg.interface_object_sources(t, f.name))
        cands = [c for c in cands if self.route(graph, t, c[0], c[1]) is not None]
        if not cands:
            # Under a per-type expansion of an abstract field (a "... on X" path segment) the supergraph is fine
            # for the other types: that runtime type alone has no plan.
            error = UnplannableRuntimeType if any(x.startswith("... on ") for x in pos.path) else PlanningError
            raise error(
                f"Cannot plan {t}.{f.name} at {'.'.join(pos.path) or 'root'} from subgraph '{graph}': "
                "no subgraph that resolves it can be reached through a key",
                "UNSATISFIABLE",
            )
        return cands

    def _choose_jump(
        self, pos: Pos, f: Field, cands: list[tuple[str, str]], pending: list[Field], chosen: dict[Any, Any]
    ) -> tuple[str, str]:
        """The candidate with the cheapest subtree, then: the current graph, a graph this
        position already jumps to, fewer hops, more of the pending fields, ``join__Graph`` order."""
        sg = self.sg
        graph, t = pos.step.graph, pos.type
        best: tuple[int, ...] | None = None
        choice = cands[0]
        for c in cands:
            g, tt = c
            ret = sg.field_type_in_graph(g, tt, f.name) or ""
            sub = self.cost(g, ret, f.selections, self.provides_of(g, tt, f.name)) if f.selections else 0
            hops = len(self.route(graph, t, g, tt) or ())
            covers = sum(1 for o in pending if sg.resolvable(g, tt, o.name, self.labels))
            score = (
                sub,
                0 if c == (graph, t) else 1,
                0 if c in chosen else 1,
                hops,
                -covers,
                sg.graph_order.get(g, 0),
            )
            if best is None or score < best:
                best, choice = score, c
        return choice

    def _requirement_batches(self, g2: str, t2: str, fields: list[Field]) -> list[list[Field]]:
        """Split the fields of one jump so no two in a batch require the same response key in
        different forms (``price(currency: USD)`` and ``price(currency: EUR)``): a representation
        carries a required value under the field's own name, so each form needs its own entity
        fetch (docs/router.md §3.5 @requires)."""
        batches: list[tuple[list[Field], list[Selection]]] = []
        for f in fields:
            fig = self.sg.field_in_graph(g2, t2, f.name)
            req = fig.requires_selections if fig is not None and fig.requires else ()
            for batch, sels in batches:
                if not _requirements_clash(sels, req):
                    batch.append(f)
                    sels.extend(req)
                    break
            else:
                batches.append(([f], list(req)))
        return [batch for batch, _ in batches]

    def _resolve_real_type(self, pos: Pos, typed: tuple[Selection, ...]) -> set[FetchStep]:
        """An ``@interfaceObject`` graph cannot tell the concrete type (its ``__typename`` is
        the interface name): jump to a graph where the interface is a real entity interface
        and plan ``__typename`` and the type conditions there (docs/router.md §3.7 @interfaceObject)."""
        sg = self.sg
        for g2 in sg.subgraphs:
            if g2 == pos.step.graph or sg.is_interface_object(g2, pos.type) or not sg.keys(g2, pos.type):
                continue
            if self.route(pos.step.graph, pos.type, g2, pos.type) is not None:
                return self._jump(pos, g2, pos.type, [], typed)
        raise PlanningError(
            f"Cannot determine the concrete type of {pos.type} at {'.'.join(pos.path)}: no subgraph with the "
            "real interface can be reached",
            "UNSATISFIABLE",
        )

    def _jump(
        self, pos: Pos, g2: str, t2: str, fields: list[Field], extra: tuple[Selection, ...] = ()
    ) -> set[FetchStep]:
        """Jump from ``pos`` into graph ``g2`` (type ``t2``) for ``fields``: plan their @requires,
        then the hops of the key route, then the fields themselves in the last hop's step."""
        t = pos.type
        req_producers, req_sels, renames = self._plan_requires(pos, g2, t2, fields)
        ctx_producers, ctx_values = self._plan_context(pos, g2, t2, fields)
        req_producers |= ctx_producers
        conds = self._jump_conditions(pos, fields, extra)
        route = self.route(pos.step.graph, t, g2, t2)
        assert route is not None
        parent, parent_target, parent_level = pos.step, pos.target, pos.level
        step: FetchStep | None = None
        for i, hop in enumerate(route):
            last = i == len(route) - 1
            step = self._hop(
                pos,
                parent,
                parent_target,
                parent_level,
                hop,
                conds,
                req_producers if last else set(),
                tuple(renames) if last else (),
            )
            if last:
                frag = step.req.fragment(t)
                if req_sels:
                    frag.sub.add_selections(self._typed_requires(t, tuple(req_sels)))
                _add_rewrites(step, renames)
            else:
                parent, parent_target, parent_level = step, step.sel.fragment(t).sub, step.sel
        assert step is not None
        target = step.sel.fragment(t2).sub
        sub = Pos(step, target, t2, pos.path, None, pos.conds, step.sel)
        produced = {step}
        for f in fields:  # the jump was made for these: add them here, requires are satisfied
            self.tick()
            for arg_name, arg_type, value in ctx_values.get(id(f), ()):
                var = f"contextualArgument_{self._context_n}"
                self._context_n += 1
                step.context.append(p.ContextValue(var, value.ancestor, value.key))
                step.context_types[var] = arg_type
                f = with_context_argument(f, arg_name, var)
            produced |= self._add_field(sub, f)
        if extra:
            produced |= self.plan_at(sub, extra)
        return produced

    def _plan_requires(
        self, pos: Pos, g2: str, t2: str, fields: list[Field]
    ) -> tuple[set[FetchStep], list[Selection], list[p.KeyRenamer]]:
        """@requires inputs of ``fields`` in ``g2``, planned as hidden selections at ``pos``:
        (the steps producing them, the selections, the input renames for aliased copies)."""
        producers: set[FetchStep] = set()
        selections: list[Selection] = []
        renames: list[p.KeyRenamer] = []
        for f in fields:
            fig = self.sg.field_in_graph(g2, t2, f.name)
            if fig is None or not fig.requires:
                continue
            guard = (g2, t2, f.name, pos.path)
            if guard in self._requires_stack:
                raise PlanningError(f"Cyclic @requires on {t2}.{f.name}", "UNSATISFIABLE")
            self._requires_stack.add(guard)
            try:
                sels = self._alias_conflicts(pos.target, pos.level, fig.requires_selections, renames, pos.type)
                producers |= self.plan_at(pos, sels)
            finally:
                self._requires_stack.discard(guard)
            selections.extend(sels)
        return producers, selections, renames

    def _plan_context(
        self, pos: Pos, g2: str, t2: str, fields: list[Field]
    ) -> tuple[set[FetchStep], dict[int, list[tuple[str, str, p.ContextValue]]]]:
        """@fromContext arguments of ``fields`` in ``g2``: each context selection planned, under an internal alias,
        at the nearest ancestor position whose type sets the context (the steps producing them, and per field
        its ``(argument, type, where the value is)``; the variable is named when the fetch step is known)."""
        producers: set[FetchStep] = set()
        values: dict[int, list[tuple[str, str, p.ContextValue]]] = {}
        for f in fields:
            fig = self.sg.field_in_graph(g2, t2, f.name)
            if fig is None or not fig.context_arguments:
                continue
            for ca in fig.context_arguments:
                anc = next(
                    (
                        a
                        for a in reversed(self._pos_stack[:-1])  # a strict ancestor: the top is the parent
                        if pos.path[: len(a.path)] == a.path and sets_context(self.sg, a.type, ca.context)
                    ),
                    None,
                )
                if anc is None:
                    raise PlanningError(
                        f"Cannot plan {t2}.{f.name} at {'.'.join(pos.path) or 'root'}: no ancestor sets the context "
                        f"its argument '{ca.name}' reads",
                        "UNSATISFIABLE",
                    )
                mk = (anc.step.id, anc.path, ca.context + ca.selection)
                known = self._context_keys.get(mk)
                if known is None:
                    key = f"_internal_qp_context_{len(self._context_keys)}"
                    known = self._context_keys[mk] = (key, self.plan_at(anc, aliased(ca.selections, key)))
                key = known[0]
                producers |= known[1]
                values.setdefault(id(f), []).append((ca.name, ca.type, p.ContextValue("", anc.path, key)))
        return producers, values

    @staticmethod
    def _jump_conditions(pos: Pos, fields: list[Field], extra: tuple[Selection, ...]) -> tuple[Condition, ...]:
        """A jump made only for fields under the same @skip/@include is itself conditional."""
        conds = pos.conds
        if fields and not extra:
            common = set(_conditions(fields[0].directives))
            for f in fields[1:]:
                common &= set(_conditions(f.directives))
            conds += tuple(c for c in _conditions(fields[0].directives) if c in common and c not in pos.conds)
        return conds

    def _hop(
        self,
        pos: Pos,
        parent: FetchStep,
        parent_target: OSet,
        parent_level: OSet,
        hop: Hop,
        conds: tuple[Condition, ...],
        req_producers: set[FetchStep],
        renames: tuple[p.KeyRenamer, ...] = (),
    ) -> FetchStep:
        """One entity hop of a key route: the key fields added to the parent's output, and the
        child entity step (shared with an earlier identical hop) with the key in its input. A
        hop whose requirements arrive under other internal aliases is another step: its
        representation renames them onto the real field names."""
        hg, key, ktype = hop
        t = pos.type
        parent_target.typename()
        key_renames: list[p.KeyRenamer] = []
        key_sels = self._alias_conflicts(parent_target, parent_level, key.selections, key_renames, t)
        if not parent_target.add_selections(key_sels):
            raise PlanningError(f"Key fields of {t} conflict with a client alias", "UNSATISFIABLE")
        deps = frozenset(s.id for s in req_producers)
        ck = (parent.id, hg, ktype, pos.path, conds, deps, renames)
        step = self._children.get(ck)
        if step is None:
            step = self.new_step(hg, "entity", path=pos.path, conds=conds)
            step.deps.add(parent)
            step.deps |= req_producers
            self._children[ck] = step
        frag = step.req.fragment(t)
        frag.sub.typename()
        frag.sub.add_selections(key_sels)
        _add_rewrites(step, key_renames)
        if ktype != t:
            _add_rewrites(step, [p.ValueSetter(path=(f"... on {t}", "__typename"), value=ktype)])
        return step

    def _typed_requires(self, type_name: str, selections: tuple[Selection, ...]) -> tuple[Selection, ...]:
        """Requires selection for the representation, with ``__typename`` inside every
        abstract-typed object so the subgraph can resolve its type (docs/router.md §3.5 @requires)."""
        out: list[Selection] = []
        for s in selections:
            if isinstance(s, InlineFragment):
                inner = s.type_condition or type_name
                out.append(InlineFragment(s.type_condition, s.directives, self._typed_requires(inner, s.selections)))
            elif s.selections:
                ret = self.sg.field_type_in_graph("", type_name, s.name) or ""
                sub = self._typed_requires(ret, s.selections)
                if self.sg.is_abstract(ret):
                    sub = (Field("__typename"), *sub)
                out.append(Field(s.name, s.alias, s.arguments, s.directives, sub))
            else:
                out.append(s)
        return tuple(out)

    def _alias_conflicts(
        self, target: OSet, level: OSet, selections: tuple[Selection, ...], renames: list[p.KeyRenamer], t: str
    ) -> tuple[Selection, ...]:
        """Alias a key/required field whose response key something else uses in ``level`` (``target`` or the
        set whose fragments hold it, where the two would have to merge); a ``KeyRenamer`` restores the real
        name in the representation (docs/router.md §3.5 @requires)."""
        out: list[Selection] = []
        for s in selections:
            if isinstance(s, Field) and s.alias is None and level.used_otherwise(s.name, s.args_text):
                alias = _internal_alias_of(target, s) or f"_internal_qp_alias_{self._alias_n}"
                self._alias_n += 1
                s = Field(s.name, alias, s.arguments, s.directives, s.selections)
                renames.append(p.KeyRenamer(path=(f"... on {t}", alias), rename_key_to=s.name))
            out.append(s)
        return tuple(out)


def _internal_alias_of(target: OSet, f: Field) -> str | None:
    """The internal alias ``target`` already fetches this same field form under, if any (two
    fields requiring ``price(currency: EUR)`` share it, and so share one entity step)."""
    for item in target:
        if (
            isinstance(item, OField)
            and item.alias is not None
            and item.alias.startswith("_internal_qp_alias_")
            and item.name == f.name
            and item.args_text == f.args_text
            and item.dirs_text == f.dirs_text
        ):
            return item.alias
    return None


def _requirements_clash(a: list[Selection] | tuple[Selection, ...], b: tuple[Selection, ...]) -> bool:
    """True when two requirement selections use one response key for different field forms."""
    if not a or not b:
        return False
    mine = {s.response_key: s for s in a if isinstance(s, Field)}
    for s in b:
        if isinstance(s, InlineFragment):
            inner = [x for f in a if isinstance(f, InlineFragment) for x in f.selections]
            if _requirements_clash(inner, s.selections):
                return True
            continue
        other = mine.get(s.response_key)
        if other is None:
            continue
        if other.name != s.name or other.args_text != s.args_text:
            return True
        if _requirements_clash(other.selections, s.selections):
            return True
    return False


def _add_rewrites(step: FetchStep, rewrites: list[p.KeyRenamer] | list[p.ValueSetter]) -> None:
    for rewrite in rewrites:
        if rewrite not in step.input_rewrites:
            step.input_rewrites.append(rewrite)
