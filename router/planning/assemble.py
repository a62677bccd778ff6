"""Fetch DAG -> :class:`~router.planning.query_plan.QueryPlan`
(docs/router.md §3.11 Assembling and optimising, §3.13 The plan).

1. Group steps (a query is one group; each mutation root fetch starts its own group, run in
   order).
2. Level every step by its longest dependency chain.
3. Merge entity steps of one level that go to the same subgraph under the same condition
   (one ``_entities`` call per level and subgraph), unless their selections conflict. Steps at
   different paths merge only when they select exactly the same fields (the merged Flatten
   lists all its paths): one entity answers every path it came from, so a field only one
   path asked for would put its errors and its null propagation on the others too.
4. Emit ``Sequence[Parallel[level 0], Parallel[level 1], ...]``, each conditional step
   wrapped in a ``ConditionNode``; render every step's subgraph operation.
"""

from __future__ import annotations

from graphql import VariableDefinitionNode, print_ast

from ..supergraph.model import Supergraph
from . import query_plan as p
from .conflicts import alias_conflicting_keys
from .selections import OFragment, OSet
from .steps import Condition, FetchStep

__all__ = ["assemble_plan"]


def _levels(steps: list[FetchStep]) -> dict[FetchStep, int]:
    level: dict[FetchStep, int] = {}

    def visit(s: FetchStep) -> int:
        got = level.get(s)
        if got is not None:
            return got
        level[s] = 0  # cycle guard (cannot happen: deps always point to earlier steps)
        lv = 0 if not s.deps else 1 + max(visit(d) for d in s.deps)
        level[s] = lv
        return lv

    for s in steps:
        visit(s)
    return level


def _rewrites_compatible(a: FetchStep, b: FetchStep) -> bool:
    """Input rewrites apply per representation type: merging is safe when both steps rewrite
    the same way, or their representation types do not overlap."""
    if set(a.input_rewrites) == set(b.input_rewrites):
        return True
    types_a = {getattr(i, "type_condition", None) for i in a.req}
    types_b = {getattr(i, "type_condition", None) for i in b.req}
    return not (types_a & types_b)


def _mergeable(cand: FetchStep, s: FetchStep, sg: Supergraph | None) -> bool:
    if not (cand.sel.can_merge(s.sel) and cand.req.can_merge(s.req) and _rewrites_compatible(cand, s)):
        return False
    if cand.context or s.context:  # context values are read at one path's ancestors
        return set(cand.paths) == set(s.paths)
    return set(cand.paths) == set(s.paths) or _same_per_type(cand, s, sg)


def _per_type(sel: OSet) -> dict[str, str] | None:
    """``{type condition: canonical sub-selection}`` of an ``_entities`` selection (None when it
    has anything but type fragments)."""
    out: dict[str, str] = {}
    for item in sel:
        if not isinstance(item, OFragment) or item.type_condition is None or item.dirs_text:
            return None
        out[item.type_condition] = item.sub.canonical()
    return out


def _excludes(step: FetchStep, req_types: set[str], types: set[str], sg: Supergraph | None) -> bool:
    """No object at ``step``'s paths can be of one of ``types``: its objects are of its
    representation types when those are all concrete (the walker jumps at a concrete type), or
    every path ends in a type filter ``... on U`` that is none of ``types``."""
    if not types:
        return True
    if sg is not None and not any(sg.is_abstract(t) for t in req_types):
        return True
    return all(path and path[-1].startswith("... on ") and path[-1][7:] not in types for path in step.paths)


def _same_per_type(a: FetchStep, b: FetchStep, sg: Supergraph | None) -> bool:
    """Steps at different paths share one ``_entities`` call only when every object either path
    reaches is asked the same fields with the same representation as in its own step: per type,
    equal output and input selections, and a type only one step asks about is one the other
    step's paths cannot reach (``users.@`` as User next to ``topProducts.@`` as Product)."""
    sel_a, sel_b, req_a, req_b = _per_type(a.sel), _per_type(b.sel), _per_type(a.req), _per_type(b.req)
    if sel_a is None or sel_b is None or req_a is None or req_b is None:
        return a.sel.canonical() == b.sel.canonical() and a.req.canonical() == b.req.canonical()
    types_a, types_b = set(sel_a) | set(req_a), set(sel_b) | set(req_b)
    for t in types_a & types_b:
        if sel_a.get(t) != sel_b.get(t) or req_a.get(t) != req_b.get(t):
            return False
    return _excludes(a, set(req_a), types_b - types_a, sg) and _excludes(b, set(req_b), types_a - types_b, sg)


def _merge_level(
    steps: list[FetchStep], batch_paths: bool, sg: Supergraph | None
) -> tuple[list[FetchStep], dict[FetchStep, FetchStep]]:
    kept: list[FetchStep] = []
    replaced: dict[FetchStep, FetchStep] = {}
    buckets: dict[tuple[object, ...], list[FetchStep]] = {}
    for s in steps:
        if s.kind != "entity":
            kept.append(s)
            continue
        bk = (s.graph, s.conds) if batch_paths else (s.graph, s.conds, tuple(s.paths))
        merged = False
        for cand in buckets.get(bk, ()):
            if _mergeable(cand, s, sg):
                cand.sel.merge(s.sel)
                cand.req.merge(s.req)
                for path in s.paths:
                    if path not in cand.paths:
                        cand.paths.append(path)
                cand.deps |= s.deps
                cand.variables |= s.variables
                for r in s.input_rewrites:
                    if r not in cand.input_rewrites:
                        cand.input_rewrites.append(r)
                cand.context += s.context
                cand.context_types.update(s.context_types)
                replaced[s] = cand
                merged = True
                break
        if not merged:
            buckets.setdefault(bk, []).append(s)
            kept.append(s)
    return kept, replaced


class _Renderer:
    def __init__(
        self, op_name: str | None, var_defs: tuple[VariableDefinitionNode, ...], supergraph: Supergraph | None
    ) -> None:
        self.op_name = op_name
        self.supergraph = supergraph
        self.var_defs = {v.variable.name.value: v for v in var_defs}
        self.var_order = [v.variable.name.value for v in var_defs]
        self.counter = 0

    def fetch(self, step: FetchStep) -> p.FetchNode:
        used = [v for v in self.var_order if v in step.variables]
        defs: list[str] = []
        if step.kind == "entity":
            defs.append("$representations: [_Any!]!")
        for v in used:
            d = self.var_defs[v]
            text = f"${v}: {print_ast(d.type)}"
            if d.default_value is not None:
                text += f" = {print_ast(d.default_value)}"
            defs.append(text)
        defs += [f"${v}: {t}" for v, t in step.context_types.items()]
        name = f"{self.op_name}__{step.graph}__{self.counter}" if self.op_name else None
        self.counter += 1
        head: str = step.operation_kind
        if name:
            head += " " + name
        if defs:
            head += "(" + ", ".join(defs) + ")"
        output_rewrites: tuple[p.FetchRewrite, ...] = ()
        if self.supergraph is not None:
            parent = self.supergraph.root_types.get(step.operation_kind) if step.kind != "entity" else None
            output_rewrites = alias_conflicting_keys(step.sel, parent, step.graph, self.supergraph)
        if step.kind == "entity":
            body = "{ _entities(representations: $representations) " + step.sel.render() + " }"
        else:
            body = step.sel.render()
        return p.FetchNode(
            service_name=step.graph,
            operation=f"{head} {body}",
            operation_kind=step.operation_kind,
            operation_name=name,
            variable_usages=tuple(used),
            requires=step.req.to_requires() if step.kind == "entity" else (),
            input_rewrites=tuple(step.input_rewrites),
            output_rewrites=output_rewrites,
            id=step.id,
            context_values=tuple(step.context),
        )


def _wrap_conditions(node: p.PlanNode, conds: tuple[Condition, ...]) -> p.PlanNode:
    for var, expected in reversed(conds):
        node = p.ConditionNode(
            condition=var, if_clause=node if expected else None, else_clause=None if expected else node
        )
    return node


def _dedupe_conds(conds: tuple[Condition, ...]) -> tuple[Condition, ...]:
    out: list[Condition] = []
    for c in conds:
        if c not in out:
            out.append(c)
    return tuple(out)


def _seq(nodes: list[p.PlanNode]) -> p.PlanNode | None:
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else p.SequenceNode(tuple(nodes))


def _par(nodes: list[p.PlanNode]) -> p.PlanNode | None:
    if not nodes:
        return None
    return nodes[0] if len(nodes) == 1 else p.ParallelNode(tuple(nodes))


def assemble_plan(
    steps: list[FetchStep],
    roots: list[FetchStep],
    op_name: str | None,
    var_defs: tuple[VariableDefinitionNode, ...],
    *,
    batch_paths: bool = True,
    supergraph: Supergraph | None = None,
) -> p.QueryPlan:
    renderer = _Renderer(op_name, var_defs, supergraph)
    # group membership: a step belongs to the group of its lowest-numbered root ancestor
    group_of: dict[FetchStep, int] = {}
    for s in steps:
        if s.kind == "root":
            group_of[s] = s.group
        else:
            group_of[s] = max((group_of[d] for d in s.deps), default=0)
    ngroups = max((r.group for r in roots), default=0) + 1
    group_nodes: list[p.PlanNode] = []
    for g in range(ngroups):
        members = [s for s in steps if group_of[s] == g and (s.sel or s.kind == "entity")]
        members = [s for s in members if s.kind == "root" or s.sel]
        if not members:
            continue
        level = _levels(members)
        by_level: dict[int, list[FetchStep]] = {}
        for s in members:
            by_level.setdefault(level[s], []).append(s)
        replaced: dict[FetchStep, FetchStep] = {}
        stages: list[p.PlanNode] = []
        for lv in sorted(by_level):
            for s in by_level[lv]:
                s.deps = {replaced.get(d, d) for d in s.deps}
            kept, rep = _merge_level(by_level[lv], batch_paths, supergraph)
            replaced.update(rep)
            nodes: list[p.PlanNode] = []
            for s in kept:
                fetch = renderer.fetch(s)
                node: p.PlanNode
                if s.kind == "entity":
                    node = p.FlattenNode(path=s.paths[0], node=fetch, paths=tuple(s.paths) if len(s.paths) > 1 else ())
                    conds = s.conds
                elif s.kind == "reentry":  # a root query merged at the path of a field returning Query
                    node = p.FlattenNode(path=s.paths[0], node=fetch)
                    conds = s.conds
                else:
                    node = fetch
                    conds = s.root_conds or ()
                nodes.append(_wrap_conditions(node, _dedupe_conds(conds)))
            par = _par(nodes)
            if par is not None:
                stages.append(par)
        seq = _seq(stages)
        if seq is not None:
            group_nodes.append(seq)
    if len(group_nodes) > 1:
        flat: list[p.PlanNode] = []
        for n in group_nodes:
            flat.extend(n.nodes if isinstance(n, p.SequenceNode) else (n,))
        return p.QueryPlan(node=p.SequenceNode(tuple(flat)))
    return p.QueryPlan(node=group_nodes[0] if group_nodes else None)
