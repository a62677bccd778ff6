"""Print a query plan as Apollo-style text or JSON (for ``router explain`` and plan tests)."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, parse, print_ast

from . import query_plan as p

__all__ = ["plan_to_text", "plan_to_json", "path_to_text"]


def path_to_text(path: tuple[str, ...]) -> str:
    """``("items", "@", "... on Book", "id")`` -> ``items.@|[Book].id`` (Apollo's notation)."""
    out = ""
    for seg in path:
        if seg.startswith("... on "):
            out += f"|[{seg[7:]}]"
        else:
            out += ("." if out else "") + seg
    return out


def _pretty_operation(op: str) -> str:
    try:
        return print_ast(parse(op, no_location=True))
    except GraphQLError:  # pragma: no cover - the planner emits valid text
        return op


def _selection_text(sels: tuple[p.Selection, ...], indent: str) -> list[str]:
    lines: list[str] = []
    for s in sels:
        if isinstance(s, p.FieldSelection):
            head = f"{s.alias}: {s.name}" if s.alias else s.name
            if s.selections:
                lines.append(f"{indent}{head} {{")
                lines.extend(_selection_text(s.selections, indent + "  "))
                lines.append(f"{indent}}}")
            else:
                lines.append(f"{indent}{head}")
        else:
            lines.append(f"{indent}... on {s.type_condition} {{" if s.type_condition else f"{indent}... {{")
            lines.extend(_selection_text(s.selections, indent + "  "))
            lines.append(f"{indent}}}")
    return lines


def _rewrite_text(r: p.FetchRewrite) -> str:
    if isinstance(r, p.ValueSetter):
        return f"ValueSetter({'.'.join(r.path)} = {r.value!r})"
    return f"KeyRenamer({'.'.join(r.path)} -> {r.rename_key_to})"


def _node_text(node: p.PlanNode, indent: str) -> list[str]:
    nxt = indent + "  "
    if isinstance(node, p.FetchNode):
        lines = [f'{indent}Fetch(service: "{node.service_name}") {{']
        if node.requires:
            lines.extend(_selection_text(node.requires, nxt))
            lines.append(f"{nxt}=>")
        for r in node.input_rewrites:
            lines.append(f"{nxt}input rewrite: {_rewrite_text(r)}")
        for r in node.output_rewrites:
            lines.append(f"{nxt}output rewrite: {_rewrite_text(r)}")
        for c in node.context_values:
            lines.append(f"{nxt}context: ${c.variable} = {path_to_text(c.ancestor)}.{c.key}")
        for line in _pretty_operation(node.operation).splitlines():
            lines.append(nxt + line)
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, p.FlattenNode):
        paths = ", ".join(f'"{path_to_text(x)}"' for x in node.all_paths)
        lines = [f"{indent}Flatten(path: {paths}) {{"]
        lines.extend(_node_text(node.node, nxt))
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, (p.SequenceNode, p.ParallelNode)):
        name = "Sequence" if isinstance(node, p.SequenceNode) else "Parallel"
        lines = [f"{indent}{name} {{"]
        for child in node.nodes:
            lines.extend(_node_text(child, nxt))
        lines.append(f"{indent}}},")
        return lines
    if isinstance(node, p.ConditionNode):
        if node.if_clause is not None and node.else_clause is None:
            lines = [f"{indent}Include(if: ${node.condition}) {{"]
            lines.extend(_node_text(node.if_clause, nxt))
        elif node.if_clause is None and node.else_clause is not None:
            lines = [f"{indent}Skip(if: ${node.condition}) {{"]
            lines.extend(_node_text(node.else_clause, nxt))
        else:
            lines = [f"{indent}Condition(if: ${node.condition}) {{", f"{nxt}Then {{"]
            if node.if_clause is not None:
                lines.extend(_node_text(node.if_clause, nxt + "  "))
            lines += [f"{nxt}}}", f"{nxt}Else {{"]
            if node.else_clause is not None:
                lines.extend(_node_text(node.else_clause, nxt + "  "))
            lines.append(f"{nxt}}}")
        lines.append(f"{indent}}},")
        return lines
    raise TypeError(f"unknown plan node {node!r}")  # pragma: no cover


def plan_to_text(plan: p.QueryPlan) -> str:
    """``QueryPlan { Sequence { Fetch(service: "x") {...} Flatten(path: "a.@") {...} } }``."""
    if plan.node is None:
        return "QueryPlan {\n}\n"
    return "QueryPlan {\n" + "\n".join(_node_text(plan.node, "  ")) + "\n}\n"


def _selection_json(sels: tuple[p.Selection, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in sels:
        if isinstance(s, p.FieldSelection):
            d: dict[str, Any] = {"kind": "Field", "name": s.name}
            if s.alias:
                d["alias"] = s.alias
            if s.selections:
                d["selections"] = _selection_json(s.selections)
        else:
            d = {
                "kind": "InlineFragment",
                "typeCondition": s.type_condition,
                "selections": _selection_json(s.selections),
            }
        out.append(d)
    return out


def _rewrite_json(r: p.FetchRewrite) -> dict[str, Any]:
    if isinstance(r, p.ValueSetter):
        return {"kind": "ValueSetter", "path": list(r.path), "setValueTo": r.value}
    return {"kind": "KeyRenamer", "path": list(r.path), "renameKeyTo": r.rename_key_to}


def _node_json(node: p.PlanNode) -> dict[str, Any]:
    if isinstance(node, p.FetchNode):
        d: dict[str, Any] = {
            "kind": "Fetch",
            "serviceName": node.service_name,
            "operationKind": node.operation_kind,
            "operation": node.operation,
            "variableUsages": list(node.variable_usages),
        }
        if node.operation_name:
            d["operationName"] = node.operation_name
        if node.requires:
            d["requires"] = _selection_json(node.requires)
        if node.input_rewrites:
            d["inputRewrites"] = [_rewrite_json(r) for r in node.input_rewrites]
        if node.output_rewrites:
            d["outputRewrites"] = [_rewrite_json(r) for r in node.output_rewrites]
        if node.context_values:
            d["contextValues"] = [
                {"variable": c.variable, "ancestor": list(c.ancestor), "key": c.key} for c in node.context_values
            ]
        if node.id is not None:
            d["id"] = node.id
        return d
    if isinstance(node, p.FlattenNode):
        d = {"kind": "Flatten", "path": list(node.path), "node": _node_json(node.node)}
        if node.paths:
            d["paths"] = [list(x) for x in node.paths]
        return d
    if isinstance(node, p.SequenceNode):
        return {"kind": "Sequence", "nodes": [_node_json(n) for n in node.nodes]}
    if isinstance(node, p.ParallelNode):
        return {"kind": "Parallel", "nodes": [_node_json(n) for n in node.nodes]}
    if isinstance(node, p.ConditionNode):
        return {
            "kind": "Condition",
            "condition": node.condition,
            "ifClause": _node_json(node.if_clause) if node.if_clause is not None else None,
            "elseClause": _node_json(node.else_clause) if node.else_clause is not None else None,
        }
    raise TypeError(f"unknown plan node {node!r}")  # pragma: no cover


def plan_to_json(plan: p.QueryPlan) -> dict[str, Any]:
    return {"kind": "QueryPlan", "node": _node_json(plan.node) if plan.node is not None else None}
