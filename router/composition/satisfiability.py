"""SATISFIABILITY_ERROR: every API field reachable from a root must be resolvable (docs/router.md §5.5 Satisfiability).

A breadth-first walk over states (type, graph, provided selections). From a state the reachable graphs are
the current one plus every graph entered through a *resolvable* key whose fields are available in a graph
already reached (key chains are followed). Each accessible field of the type must then be resolvable in one
of those graphs (not @external unless provided on this path, not overridden away, @requires available).
Its return type is explored from every graph that resolves it, each state remembering the other graphs that
resolve the same path (its alternatives): a field is satisfied when any of them resolves it, as Apollo's
composition validates each path and its planner splits a shareable value type over those graphs (docs/router.md
§3.15). The first (shortest) failing path is reported per field, as an example query.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from graphql import GraphQLSyntaxError, print_ast
from graphql.language import FieldNode, InlineFragmentNode, SelectionSetNode

from .diagnostics import CompositionError
from .fieldset_rules import parse_field_set
from .subgraph_model import named_type
from .supergraph_model import ComposedSupergraph

__all__ = ["check_satisfiability"]

_ROOT = "<root>"


@dataclass(frozen=True)
class _State:
    type_name: str
    graph: str
    path: tuple[str, ...]
    provided: SelectionSetNode | None
    alternatives: tuple[str, ...] = ()  # other graphs resolving the same path (value types split over graphs)
    contexts: frozenset[str] = frozenset()  # @context names ("<subgraph>__<name>") set by the path's objects


def _fs(text: str | None) -> SelectionSetNode | None:
    if not text:
        return None
    try:
        return parse_field_set(text)
    except GraphQLSyntaxError:
        return None


def _sub_selection(sel: SelectionSetNode | None, type_name: str, field: str) -> tuple[bool, SelectionSetNode | None]:
    """Is `field` in the provided selection (for `type_name`), and its nested provided selection."""
    if sel is None:
        return False, None
    for s in sel.selections:
        if isinstance(s, FieldNode) and s.name.value == field:
            return True, s.selection_set
        if isinstance(s, InlineFragmentNode) and (s.type_condition is None or s.type_condition.name.value == type_name):
            found, inner = _sub_selection(s.selection_set, type_name, field)
            if found:
                return found, inner
    return False, None


def _query_text(path: tuple[str, ...]) -> str:
    text = ""
    for step in reversed(path):
        text = step + (" { " + text + " }" if text else "")
    return "{ " + text + " }"


class _Checker:
    def __init__(self, sg: ComposedSupergraph) -> None:
        self.sg = sg
        self.errors: list[CompositionError] = []
        self.reported: set[tuple[str, str]] = set()

    def resolvable(self, g: str, t: str, f: str, provided: SelectionSetNode | None) -> bool:
        tdef = self.sg.subgraphs[g].types.get(t)
        if tdef is None:
            return False
        fld = tdef.fields.get(f)
        if fld is None:
            return False
        if fld.external:
            return _sub_selection(provided, t, f)[0]
        return not fld.overridden

    def available(self, g: str, t: str, sel: SelectionSetNode, provided: SelectionSetNode | None) -> bool:
        for s in sel.selections:
            if isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else t
                if not self.available(g, cond, s.selection_set, provided):
                    return False
                continue
            if not isinstance(s, FieldNode) or s.name.value == "__typename":
                continue
            if not self.resolvable(g, t, s.name.value, provided):
                return False
            if s.selection_set is not None:
                fld = self.sg.subgraphs[g].types[t].fields[s.name.value]
                inner = _sub_selection(provided, t, s.name.value)[1]
                if not self.available(g, named_type(fld.type), s.selection_set, inner):
                    return False
        return True

    def fetchable(self, t: str, sel: SelectionSetNode, graphs: list[str]) -> bool:
        """Can the router fetch ``sel`` (a @requires) on a ``t`` that ``graphs`` can resolve? Each field may come
        from any of them, and its sub-selection field by field from any graph that resolves the field or that the
        return type reaches from one by keys (Apollo plans a requirement like any other selection:
        ``media { ... on Book { isbn } }`` may take ``media`` from one graph and ``Book.isbn`` from another, and
        ``o { x y }`` on a shareable value type ``x`` from one graph and ``y`` from another)."""
        for s in sel.selections:
            if isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else t
                inner = graphs if cond == t else self.closures(cond, graphs)
                if not self.fetchable(cond, s.selection_set, inner):
                    return False
                continue
            if not isinstance(s, FieldNode) or s.name.value == "__typename":
                continue
            cands = [x for x in graphs if self.resolvable(x, t, s.name.value, None)]
            if not cands:
                return False
            if s.selection_set is not None:
                ret = named_type(self.sg.subgraphs[cands[0]].types[t].fields[s.name.value].type)
                if not self.fetchable(ret, s.selection_set, self.closures(ret, cands)):
                    return False
        return True

    def closures(self, t: str, graphs: list[str]) -> list[str]:
        """Every graph reachable by keys on ``t`` from one of ``graphs`` that knows ``t``."""
        out: list[str] = []
        for g in graphs:
            if t in self.sg.subgraphs[g].types:
                out += [x for x in self.closure(t, g, None) if x not in out]
        return out

    def closure(self, t: str, g: str, provided: SelectionSetNode | None) -> list[str]:
        if t == self.sg.roots.get("query"):
            # A field returning Query re-enters: the router asks any graph's root, no key needed.
            return [g, *(s.name for s in self.sg.subgraphs.values() if s.name != g and "query" in s.roots)]
        reached = [g]
        queue = deque([g])
        while queue:
            src = queue.popleft()
            for other in self.sg.subgraphs.values():
                if other.name in reached or t not in other.types:
                    continue
                for key in other.types[t].keys:
                    keysel = _fs(key.fields)
                    if (
                        key.resolvable
                        and keysel is not None
                        and self.available(src, t, keysel, provided if src == g else None)
                    ):
                        reached.append(other.name)
                        queue.append(other.name)
                        break
        return reached

    def reached(self, st: _State) -> list[str]:
        """The graphs that can resolve fields at ``st``: its graph's closure, then its alternatives' closures."""
        graphs = self.closure(st.type_name, st.graph, st.provided)
        for alt in st.alternatives:
            if alt in self.sg.subgraphs and st.type_name in self.sg.subgraphs[alt].types:
                graphs += [g for g in self.closure(st.type_name, alt, None) if g not in graphs]
        return graphs

    def run(self) -> list[CompositionError]:
        queue: deque[_State] = deque()
        seen: set[tuple[str, str, str, tuple[str, ...], frozenset[str]]] = set()
        for op, root in self.sg.roots.items():
            graphs = [s.name for s in self.sg.subgraphs.values() if op in s.roots and root in s.types]
            self.visit_object(root, graphs, _State(root, _ROOT, (), None), queue)
        while queue:
            st = queue.popleft()
            memo = (st.type_name, st.graph, print_ast(st.provided) if st.provided else "", st.alternatives, st.contexts)
            if memo in seen:
                continue
            seen.add(memo)
            mt = self.sg.types.get(st.type_name)
            tdef = self.sg.subgraphs[st.graph].types.get(st.type_name)
            if mt is None or tdef is None or mt.inaccessible:
                continue
            if mt.kind == "object" or tdef.interface_object:
                graphs = self.reached(st)
                self.visit_object(st.type_name, graphs, st, queue)
                if tdef.interface_object:
                    self.downcast_interface_object(st, graphs, queue)
            elif mt.kind in ("interface", "union"):
                runtime = (
                    tdef.members
                    if mt.kind == "union"
                    else [
                        o.name
                        for o in self.sg.subgraphs[st.graph].types.values()
                        if st.type_name in o.interfaces and o.kind == "object"
                    ]
                )
                for o in runtime:
                    provided = st.provided
                    queue.append(_State(o, st.graph, (*st.path, f"... on {o}"), provided, st.alternatives, st.contexts))
        return self.errors

    def downcast_interface_object(self, st: _State, graphs: list[str], queue: deque[_State]) -> None:
        """``... on A`` below an ``@interfaceObject``: the graph only knows the interface, so the router reaches the
        implementations through a graph with the real interface, entered by the interface's key (Apollo's composer
        checks these paths too: a field of ``A`` that graph cannot reach fails, although no path from a root of the
        real interface's graph leads to ``A``)."""
        for g in graphs:
            sub = self.sg.subgraphs[g]
            iface = sub.types.get(st.type_name)
            if iface is None or iface.kind != "interface":
                continue
            for o in sub.types.values():
                if o.kind == "object" and st.type_name in o.interfaces:
                    queue.append(_State(o.name, g, (*st.path, f"... on {o.name}"), None, (), st.contexts))

    def visit_object(self, t: str, graphs: list[str], st: _State, queue: deque[_State]) -> None:
        mt = self.sg.types[t]
        # A context is read from a strict ancestor: this object's own contexts count for the fields below it.
        below = st.contexts.union(
            mt.contexts, *(self.sg.types[i].contexts for i in mt.interfaces if i in self.sg.types)
        )
        for fname, mf in mt.fields.items():
            if mf.inaccessible:
                continue
            ret = self.sg.types.get(named_type(mf.type))
            if ret is not None and ret.inaccessible:
                continue
            if mf.from_interface_object:
                self.visit_interface_object_field(t, fname, graphs, st, queue)
                continue
            cands = []
            reasons = []
            for g in graphs:
                provided = st.provided if g == st.graph else None
                if not self.resolvable(g, t, fname, provided):
                    fld = self.sg.subgraphs[g].types[t].fields.get(fname)
                    why = (
                        "is @external"
                        if fld is not None and fld.external
                        else "is overridden"
                        if fld is not None
                        else "is not defined"
                    )
                    reasons.append(f'from subgraph "{g}": field "{t}.{fname}" {why} there')
                    continue
                req = _fs(self.sg.subgraphs[g].types[t].fields[fname].requires)
                if req is not None and not self.fetchable(t, req, graphs):
                    reasons.append(f'from subgraph "{g}": cannot satisfy @requires of "{t}.{fname}"')
                    continue
                needed = {f"{g}__{ca.context}" for ca in self.sg.subgraphs[g].types[t].fields[fname].context_args}
                if not needed <= st.contexts:
                    reasons.append(
                        f'from subgraph "{g}": could not find a match for required context for field "{t}.{fname}"'
                    )
                    continue
                cands.append(g)
            path = (*st.path, fname)
            if not cands:
                if (t, fname) not in self.reported:
                    self.reported.add((t, fname))
                    others = [g for g in mf.sources if g not in graphs]
                    if others:
                        reasons.append(
                            f"subgraph{'s' if len(others) > 1 else ''} "
                            + ", ".join(f'"{g}"' for g in others)
                            + f' cannot be reached from here (no usable @key on "{t}")'
                        )
                    self.errors.append(
                        CompositionError(
                            "SATISFIABILITY_ERROR",
                            f"The following supergraph API query: {_query_text(path)} cannot be satisfied by the "
                            "subgraphs because: " + "; ".join(reasons),
                            None,
                            t,
                            fname,
                        )
                    )
                continue
            if ret is None or ret.kind not in ("object", "interface", "union"):
                continue
            for g in cands:
                provided_here = st.provided if g == st.graph else None
                found, inner = _sub_selection(provided_here, t, fname)
                own = _fs(self.sg.subgraphs[g].types[t].fields[fname].provides)
                provided = own if own is not None else (inner if found else None)
                queue.append(_State(ret.name, g, path, provided, tuple(x for x in cands if x != g), below))

    def interface_object_graphs(self, t: str, fname: str, graphs: list[str], st: _State) -> list[tuple[str, str]]:
        """(graph, interface) pairs resolving ``t.fname`` through an ``@interfaceObject`` reachable from ``graphs``:
        a resolvable key of the interface there whose fields one of ``graphs`` has for ``t``."""
        out: list[tuple[str, str]] = []
        for i in self.sg.types[t].interfaces:
            for sub in self.sg.subgraphs.values():
                idef = sub.types.get(i)
                if idef is None or not idef.interface_object or not self.resolvable(sub.name, i, fname, None):
                    continue
                for key in idef.keys:
                    keysel = _fs(key.fields)
                    if (
                        key.resolvable
                        and keysel is not None
                        and any(
                            self.available(src, t, keysel, st.provided if src == st.graph else None) for src in graphs
                        )
                    ):
                        out.append((sub.name, i))
                        break
        return out

    def visit_interface_object_field(
        self, t: str, fname: str, graphs: list[str], st: _State, queue: deque[_State]
    ) -> None:
        """A field an ``@interfaceObject`` adds to implementation ``t``: one of those graphs must be reachable."""
        found = self.interface_object_graphs(t, fname, graphs, st)
        path = (*st.path, fname)
        if not found:
            if (t, fname) not in self.reported:
                self.reported.add((t, fname))
                self.errors.append(
                    CompositionError(
                        "SATISFIABILITY_ERROR",
                        f"The following supergraph API query: {_query_text(path)} cannot be satisfied by the "
                        f'subgraphs because: field "{t}.{fname}" comes from an @interfaceObject that cannot be '
                        "reached from here (no resolvable @key whose fields are available)",
                        None,
                        t,
                        fname,
                    )
                )
            return
        ret = self.sg.types.get(named_type(self.sg.types[t].fields[fname].type))
        if ret is not None and ret.kind in ("object", "interface", "union"):
            for g, i in found:
                own = _fs(self.sg.subgraphs[g].types[i].fields[fname].provides)
                queue.append(_State(ret.name, g, path, own, (), st.contexts))


def check_satisfiability(sg: ComposedSupergraph) -> list[CompositionError]:
    return _Checker(sg).run()
