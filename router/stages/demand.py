"""Demand control: the operation's estimated cost from ``@cost``/``@listSize`` against a configured maximum
(docs/router.md §6.5 Demand control). Runs after planning, as Apollo Router's static estimate does: the cost is
the sum over the plan's fetches of each subgraph operation's cost, so an entity fetch counts too (its
``_entities`` list is sized like any list without ``@listSize``). An operation over the maximum is refused with
``COST_ESTIMATED_TOO_EXPENSIVE`` and nothing is fetched."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    parse,
    value_from_ast_untyped,
)

from router.errors import LimitExceeded
from router.planning.query_plan import ConditionNode, FetchNode, FlattenNode, PlanNode, QueryPlan
from router.supergraph.cost import CostRules, ListSize

from .request_context import RequestContext

__all__ = ["CostEstimator", "DEFAULT_LIST_SIZE", "MUTATION_BASE_COST"]

DEFAULT_LIST_SIZE = 10
MUTATION_BASE_COST = 10
_ENTITIES = "_entities"


class CostEstimator:
    """Estimates an operation's cost as Apollo Router's static estimate does: the sum of its fetches' costs (a
    ``Condition`` counts its dearer branch; an active ``@defer`` part adds its fetches). A fetch's operation is
    costed field by field: ``size x (weight + its selections) + its arguments``. ``weight`` is the field's
    ``@cost``, else its type's, else 1 for an object and 0 for a leaf; ``size`` is 1, or for a list the size a
    parent's ``sizedFields`` gives it, else the slicing argument's value, else ``assumedSize``, else the default
    list size (``_entities`` of an entity fetch too). An argument costs its ``@cost`` (else its type's), an input
    object 1 plus its fields, a list its ``@cost`` plus each item. Fragments add up, whatever their type
    condition; a field ``@skip``/``@include`` with a literal condition may cost nothing; a mutation adds 10."""

    def __init__(self, schema: GraphQLSchema, rules: CostRules, *, max_cost: int | None, list_size: int) -> None:
        self.schema = schema
        self.rules = rules
        self.max_cost = max_cost
        self.list_size = list_size

    def check(self, ctx: RequestContext) -> None:
        """Call once ``ctx.plan`` (and ``ctx.deferred``) are set."""
        if self.max_cost is None:
            return
        try:
            cost = self.estimate_plan(ctx.plan, ctx.conditions)
        except _SlicingError as exc:
            # Apollo Router refuses the operation when its estimate cannot be made (COST_QUERY_PARSE_FAILURE)
            raise LimitExceeded(
                str(exc),
                "COST_QUERY_PARSE_FAILURE",
                errors=[{"message": str(exc), "extensions": {"code": "COST_QUERY_PARSE_FAILURE"}}],
            ) from None
        deferred = ctx.deferred
        if deferred is not None:
            for site, part in deferred.plan.parts.items():
                if site in deferred.active:
                    cost += self.node_cost(part, ctx.conditions)
        if cost > self.max_cost:
            raise LimitExceeded(
                f"Operation estimated cost {cost} is over the maximum of {self.max_cost}",
                "COST_ESTIMATED_TOO_EXPENSIVE",
                errors=[
                    {
                        "message": f"Operation estimated cost {cost} is over the maximum of {self.max_cost}",
                        "extensions": {
                            "code": "COST_ESTIMATED_TOO_EXPENSIVE",
                            "cost.estimated": cost,
                            "cost.max": self.max_cost,
                        },
                    }
                ],
            )

    def estimate_plan(self, plan: QueryPlan | None, variables: Mapping[str, Any]) -> int:
        return 0 if plan is None else self.node_cost(plan.node, variables)

    def node_cost(self, node: PlanNode | None, variables: Mapping[str, Any]) -> int:
        if node is None:
            return 0
        if isinstance(node, FetchNode):
            return self.operation_cost(_parsed(node.operation), variables)
        if isinstance(node, FlattenNode):
            return self.node_cost(node.node, variables)
        if isinstance(node, ConditionNode):
            return max(self.node_cost(node.if_clause, variables), self.node_cost(node.else_clause, variables))
        return sum(self.node_cost(n, variables) for n in node.nodes)

    def operation_cost(self, document: DocumentNode, variables: Mapping[str, Any]) -> int:
        """One subgraph operation's cost (the first operation of ``document``)."""
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        op = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
        root = self.schema.get_root_type(op.operation)
        if root is None:
            return 0
        base = MUTATION_BASE_COST if op.operation == OperationType.MUTATION else 0
        return base + _Walk(self, fragments, variables).selections(root, op.selection_set, {})


class _SlicingError(Exception):
    """``requireOneSlicingArgument`` (the default) with zero or several slicing arguments given a value (literal,
    variable or the argument's default): Apollo Router cannot size the list and refuses the operation."""


@lru_cache(maxsize=4096)
def _parsed(operation: str) -> DocumentNode:
    """Fetch operations are fixed per plan: parse each once."""
    return parse(operation, no_location=True)


class _Walk:
    def __init__(
        self, est: CostEstimator, fragments: dict[str, FragmentDefinitionNode], variables: Mapping[str, Any]
    ) -> None:
        self.est = est
        self.fragments = fragments
        self.variables = variables

    @staticmethod
    def skipped(node: FieldNode) -> bool:
        """Only a literal ``if`` on the field itself, as Apollo Router's estimate reads it (a variable condition
        stays in the subgraph operation and is counted)."""
        for d in node.directives or ():
            name = d.name.value
            if name not in ("skip", "include"):
                continue
            for a in d.arguments or ():
                if a.name.value == "if" and isinstance(a.value, BooleanValueNode) and a.value.value is (name == "skip"):
                    return True
        return False

    def selections(self, parent: Any, sel: SelectionSetNode, sized: dict[str, int]) -> int:
        """Every field of ``parent`` and of every fragment, summed (Apollo Router adds fragments on different type
        conditions too, as an upper bound). ``sized`` are the child list sizes a parent's ``sizedFields`` sets."""
        total = 0
        for node in sel.selections:
            if isinstance(node, FieldNode):
                if not self.skipped(node):
                    total += self.field(parent, node, sized.get(node.name.value))
                continue
            inner = (
                node
                if isinstance(node, InlineFragmentNode)
                else self.fragments.get(node.name.value)
                if isinstance(node, FragmentSpreadNode)
                else None
            )
            if inner is None:
                continue
            cond = inner.type_condition.name.value if inner.type_condition else parent.name
            total += self.selections(self.est.schema.get_type(cond) or parent, inner.selection_set, sized)
        return total

    def field(self, parent: Any, node: FieldNode, sized: int | None) -> int:
        fields = getattr(parent, "fields", None)
        fdef: GraphQLField | None = fields.get(node.name.value) if fields else None
        if fdef is None:
            if node.name.value == _ENTITIES and parent is self.est.schema.query_type:
                return self.entities(node)
            return 0  # __typename and introspection fields
        rules = self.est.rules
        key = (parent.name, node.name.value)
        named = get_named_type(fdef.type)
        weight = rules.field_weights.get(key)
        if weight is None:
            weight = rules.type_weights.get(named.name, 1 if is_composite_type(named) else 0)
        ls = rules.list_sizes.get(key)
        declared = self.declared_size(ls, node, fdef)
        ftype = fdef.type.of_type if is_non_null_type(fdef.type) else fdef.type
        if not is_list_type(ftype):
            size = 1
        elif sized is not None:
            size = sized
        else:
            size = self.est.list_size if declared is None else declared
        children = 0
        if node.selection_set is not None:
            # `sizedFields`: the declared size goes to those child lists (and to this field, when it is a list)
            inner = {f: declared for f in ls.sized_fields} if ls is not None and declared is not None else {}
            children = self.selections(named, node.selection_set, inner)
        arguments = 0
        for arg in node.arguments or ():
            adef = fdef.args.get(arg.name.value)
            if adef is not None:
                own = rules.argument_weights.get((*key, arg.name.value))
                arguments += self.argument(arg.value, adef.type, own)
        return size * (weight + children) + arguments

    def argument(self, value: Any, arg_type: Any, own: int | None) -> int:
        """What a given argument (or input field) value costs: its ``@cost``, else its type's; an input object 1
        (or its ``@cost``) plus each field given; a list its ``@cost`` (or 0) plus each item; a variable by its
        value; null nothing (Apollo Router's rules)."""
        named = get_named_type(arg_type)
        weight = own if own is not None else self.est.rules.type_weights.get(named.name)
        if isinstance(value, VariableNode):
            if value.name.value not in self.variables:
                return 0  # e.g. an entity fetch's `$representations`
            return self.argument_value(self.variables[value.name.value], arg_type, weight)
        if isinstance(value, NullValueNode):
            return 0
        if isinstance(value, ListValueNode):
            return (weight or 0) + sum(self.argument(v, arg_type, own) for v in value.values)
        if isinstance(value, ObjectValueNode) and is_input_object_type(named):
            return (1 if weight is None else weight) + sum(
                self.argument(f.value, named.fields[f.name.value].type, self.input_weight(named.name, f.name.value))
                for f in value.fields
                if f.name.value in named.fields
            )
        return weight or 0

    def argument_value(self, value: Any, arg_type: Any, weight: int | None) -> int:
        """:meth:`argument` for a variable's JSON value."""
        named = get_named_type(arg_type)
        if value is None:
            return 0
        if isinstance(value, list):
            return (weight or 0) + sum(self.argument_value(v, arg_type, weight) for v in value)
        if isinstance(value, dict) and is_input_object_type(named):
            total = 1 if weight is None else weight
            for name, inner in value.items():
                fdef = named.fields.get(name)
                if fdef is not None:
                    own = self.input_weight(named.name, name)
                    inner_weight = (
                        own if own is not None else self.est.rules.type_weights.get(get_named_type(fdef.type).name)
                    )
                    total += self.argument_value(inner, fdef.type, inner_weight)
            return total
        return weight or 0

    def input_weight(self, type_name: str, field_name: str) -> int | None:
        return self.est.rules.input_field_weights.get((type_name, field_name))

    def entities(self, node: FieldNode) -> int:
        """``_entities`` of an entity fetch: a list of the ``_Entity`` union (weight 1) without ``@listSize``, so
        the default list size; its fragments (one per entity type) add up, as in Apollo Router's estimate. Its
        ``$representations`` is not a variable of the client's request, so it costs nothing."""
        children = 0
        for sel in node.selection_set.selections if node.selection_set else ():
            if isinstance(sel, InlineFragmentNode) and sel.type_condition:
                target = self.est.schema.get_type(sel.type_condition.name.value)
                if target is not None:
                    children += self.selections(target, sel.selection_set, {})
        return self.est.list_size * (1 + children)

    def declared_size(self, ls: ListSize | None, node: FieldNode, fdef: GraphQLField) -> int | None:
        """What ``@listSize`` says: the largest slicing argument given (or defaulted), else ``assumedSize``."""
        if ls is None:
            return None
        values = [v for v in (self.argument_int(node, fdef, name) for name in ls.slicing) if v is not None]
        if ls.slicing and ls.require_one and len(values) != 1:
            raise _SlicingError(
                f'Exactly one slicing argument is required on field "{node.name.value}", but found {len(values)}'
            )
        if values:
            return max(values)
        return ls.assumed

    def argument_int(self, node: FieldNode, fdef: GraphQLField, name: str) -> int | None:
        """The integer value of argument ``name`` as given (literal or variable), else its default."""
        value: Any = None
        for a in node.arguments or ():
            if a.name.value == name:
                v = a.value
                if isinstance(v, VariableNode):
                    value = self.variables.get(v.name.value)
                elif isinstance(v, IntValueNode):
                    value = int(v.value)
                else:
                    value = value_from_ast_untyped(v)
                break
        else:
            arg = fdef.args.get(name)
            value = arg.default_value if arg is not None else None
            if value is Undefined and arg is not None and arg.ast_node is not None and arg.ast_node.default_value:
                # the API schema keeps a supergraph default as its literal only
                value = value_from_ast_untyped(arg.ast_node.default_value)
        return value if isinstance(value, int) and not isinstance(value, bool) else None
