"""Final projection: shape the merged data exactly as the client operation asks (docs/router.md §4.6 Projection).

The client operation is compiled once per (operation, values of the variables used in
``@skip``/``@include``) into small slot objects; per request the projection only walks data.
It applies aliases, fragments (by ``__typename``), skip/include, drops every helper field the
planner added (keys, ``__typename``, requires), nulls enum values unknown to the API schema,
and performs GraphQL null propagation: a null in a non-null position bubbles to the nearest
nullable parent (``data: null`` at the root), with a "Cannot return null for non-nullable
field" error unless a subgraph error already covers that path.

Selections the caller may not see (``denied``, node ids from the authorization stage) were never
fetched: a denied field is null with an ``UNAUTHORIZED_FIELD_OR_TYPE`` error at its path (and
propagates like any null), a denied fragment that applies to the object adds that error at the
object's path and contributes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
)

from router.defer.sites import defer_id

__all__ = ["FragmentProjection", "INTROSPECTION_FIELDS", "OperationProjection", "ProjectionResult"]

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})

# Kinds of compiled types.
_SCALAR, _ENUM, _LIST, _COMPOSITE = 0, 1, 2, 3
# Kinds of compiled fields.
_F_VALUE, _F_TYPENAME, _F_INTROSPECTION, _F_DENIED, _F_DENIED_FRAGMENT = 0, 1, 2, 3, 4

UNAUTHORIZED_CODE = "UNAUTHORIZED_FIELD_OR_TYPE"


def unauthorized_error(path: list[str | int]) -> dict[str, Any]:
    return {"message": "Unauthorized field or type", "path": path, "extensions": {"code": UNAUTHORIZED_CODE}}


class _Bubble:
    """Marker returned when a non-null position received null."""

    __slots__ = ()


_BUBBLE = _Bubble()


class _Type:
    __slots__ = ("kind", "nonnull", "of", "values", "enum_name", "sel", "coord")
    of: _Type  # set (and read) for _LIST only
    sel: _SelectionSet  # set (and read) for _COMPOSITE only

    def __init__(self, kind: int, nonnull: bool, coord: str) -> None:
        self.kind = kind
        self.nonnull = nonnull
        self.coord = coord
        self.values: frozenset[str] = frozenset()
        self.enum_name = ""


_NO_TYPE = _Type(_SCALAR, False, "")  # __typename and introspection fields are never completed


class _Field:
    __slots__ = ("key", "kind", "type", "scalar")

    def __init__(self, key: str, kind: int, type_: _Type = _NO_TYPE) -> None:
        self.key = key
        self.kind = kind
        self.type = type_  # read for _F_VALUE fields only
        # Fast path: nullable or non-null scalar (no enum check, no recursion).
        self.scalar = kind == _F_VALUE and type_.kind == _SCALAR


class _SelectionSet:
    """Selections on one static type; fields are collected lazily per runtime ``__typename``."""

    __slots__ = ("compiler", "nodes", "static_type", "default_typename", "by_type", "api_types")

    def __init__(self, compiler: _Compiler, nodes: list[SelectionSetNode], static_type: Any) -> None:
        self.compiler = compiler
        self.nodes = nodes
        self.static_type = static_type
        self.default_typename = static_type.name
        self.by_type: dict[Any, list[_Field]] = {}
        # On an abstract position the runtime type must be one the API schema has (not @inaccessible).
        abstract = isinstance(static_type, (GraphQLInterfaceType, GraphQLUnionType))
        self.api_types: Mapping[str, Any] | None = compiler.schema.type_map if abstract else None

    def hidden_type(self, obj: dict[str, Any]) -> bool:
        """Is ``obj``'s ``__typename`` a type clients cannot see (docs/router.md §4.6)?"""
        typename = obj.get("__typename")
        return self.api_types is not None and typename is not None and typename not in self.api_types

    def fields_for(self, typename: Any) -> list[_Field]:
        fields = self.by_type.get(typename)
        if fields is None:
            fields = self.compiler.collect(self, typename)
            self.by_type[typename] = fields
        return fields


_DENIED_FRAGMENT_KEY = ""  # never a response key


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, Any],
        denied: frozenset[int] = frozenset(),
        deferred: frozenset[int] = frozenset(),
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.conditions = conditions
        self.denied = denied
        self.deferred = deferred  # @defer site ids answered in later payloads, not here

    def included(self, node: Any) -> bool:
        directives = node.directives
        if not directives:
            return True
        for d in directives:
            name = d.name.value
            if name != "skip" and name != "include":
                continue
            value: Any = None
            for arg in d.arguments or ():
                if arg.name.value == "if":
                    v = arg.value
                    if isinstance(v, BooleanValueNode):
                        value = v.value
                    elif isinstance(v, VariableNode):
                        value = self.conditions.get(v.name.value)
            if name == "skip" and value is True:
                return False
            if name == "include" and value is not True:
                return False
        return True

    def applies(self, condition: str | None, runtime: Any, static_type: Any) -> bool:
        if condition is None:
            return True
        if condition == runtime:
            return True
        cond_type = self.schema.get_type(condition)
        if cond_type is None:
            return False
        rt = self.schema.get_type(runtime) if isinstance(runtime, str) else None
        if isinstance(rt, GraphQLObjectType):
            if isinstance(cond_type, (GraphQLInterfaceType, GraphQLUnionType)):
                return self.schema.is_sub_type(cond_type, rt)
            return False
        # Unknown runtime type (no __typename on an abstract position): only fragments on the
        # static type itself (or a supertype of it) apply.
        if condition == static_type.name:
            return True
        if isinstance(static_type, GraphQLObjectType) and isinstance(
            cond_type, (GraphQLInterfaceType, GraphQLUnionType)
        ):
            return self.schema.is_sub_type(cond_type, static_type)
        return False

    def collect(self, owner: _SelectionSet, runtime: Any) -> list[_Field]:
        grouped: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for node in owner.nodes:
            self._collect(node, runtime, owner.static_type, grouped, visited)
        rt = self.schema.get_type(runtime) if isinstance(runtime, str) else None
        parent = rt if isinstance(rt, (GraphQLObjectType, GraphQLInterfaceType)) else owner.static_type
        parent_name = parent.name
        fields: list[_Field] = []
        for key, all_nodes in grouped.items():
            if key == _DENIED_FRAGMENT_KEY:
                fields.append(_Field(key, _F_DENIED_FRAGMENT))
                continue
            nodes = [n for n in all_nodes if id(n) not in self.denied]
            if not nodes:  # every selection of this key was denied: null + error, never fetched
                fdef = getattr(parent, "fields", {}).get(all_nodes[0].name.value)
                if fdef is not None:
                    fields.append(_Field(key, _F_DENIED, self.compile_type(fdef.type, [], f"{parent_name}.{key}")))
                continue
            name = nodes[0].name.value
            if name == "__typename":
                fields.append(_Field(key, _F_TYPENAME))
                continue
            if name in INTROSPECTION_FIELDS:
                fields.append(_Field(key, _F_INTROSPECTION))
                continue
            field_defs = getattr(parent, "fields", None)
            fdef = field_defs.get(name) if field_defs else None
            if fdef is None:
                continue  # not in the API schema for this runtime type
            sub_nodes = [n.selection_set for n in nodes if n.selection_set is not None]
            fields.append(_Field(key, _F_VALUE, self.compile_type(fdef.type, sub_nodes, f"{parent_name}.{name}")))
        return fields

    def _collect(
        self,
        selection_set: SelectionSetNode,
        runtime: Any,
        static_type: Any,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for sel in selection_set.selections:
            if not self.included(sel):
                continue
            if self.deferred and not isinstance(sel, FieldNode) and defer_id(sel) in self.deferred:
                continue
            if self.denied and id(sel) in self.denied and not isinstance(sel, FieldNode):
                cond = (
                    sel.type_condition.name.value
                    if isinstance(sel, InlineFragmentNode) and sel.type_condition
                    else None
                )
                if isinstance(sel, FragmentSpreadNode):
                    frag = self.fragments.get(sel.name.value)
                    cond = frag.type_condition.name.value if frag is not None else None
                if self.applies(cond, runtime, static_type):
                    grouped.setdefault(_DENIED_FRAGMENT_KEY, [])
                continue
            if isinstance(sel, FieldNode):
                key = sel.alias.value if sel.alias else sel.name.value
                grouped.setdefault(key, []).append(sel)
            elif isinstance(sel, InlineFragmentNode):
                cond = sel.type_condition.name.value if sel.type_condition else None
                if self.applies(cond, runtime, static_type):
                    self._collect(sel.selection_set, runtime, static_type, grouped, visited)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name in visited:
                    continue
                visited.add(name)
                frag = self.fragments.get(name)
                if frag is not None and self.applies(frag.type_condition.name.value, runtime, static_type):
                    self._collect(frag.selection_set, runtime, static_type, grouped, visited)

    def compile_type(self, gtype: GraphQLOutputType, sub_nodes: list[SelectionSetNode], coord: str) -> _Type:
        nonnull = False
        if isinstance(gtype, GraphQLNonNull):
            nonnull = True
            gtype = gtype.of_type
        if isinstance(gtype, GraphQLList):
            t = _Type(_LIST, nonnull, coord)
            t.of = self.compile_type(gtype.of_type, sub_nodes, coord)
            return t
        if isinstance(gtype, GraphQLEnumType):
            t = _Type(_ENUM, nonnull, coord)
            t.values = frozenset(gtype.values)
            t.enum_name = gtype.name
            return t
        if isinstance(gtype, (GraphQLObjectType, GraphQLInterfaceType, GraphQLUnionType)):
            t = _Type(_COMPOSITE, nonnull, coord)
            t.sel = _SelectionSet(self, sub_nodes, gtype)
            return t
        return _Type(_SCALAR, nonnull, coord)


class ProjectionResult:
    __slots__ = ("data", "errors")

    def __init__(self, data: dict[str, Any] | None, errors: list[dict[str, Any]]) -> None:
        self.data = data
        self.errors = errors


class _Ctx:
    __slots__ = ("errors", "covered", "path", "introspection")

    def __init__(self, covered: Sequence[tuple[Any, ...]], introspection: Mapping[str, Any] | None) -> None:
        self.errors: list[dict[str, Any]] = []
        self.covered = covered
        self.path: list[str | int] = []
        self.introspection = introspection or {}

    def is_covered(self, path: list[str | int]) -> bool:
        n = len(path)
        for c in self.covered:
            m = len(c)
            if m <= n:
                if tuple(path[:m]) == c:
                    return True
            elif c[:n] == tuple(path):
                return True
        return False

    def null_error(self, coord: str, path: list[str | int]) -> None:
        if not self.is_covered(path):
            self.errors.append({"message": f"Cannot return null for non-nullable field {coord}.", "path": path})


def _complete(value: Any, t: _Type, ctx: _Ctx) -> Any:
    if value is None:
        if t.nonnull:
            ctx.null_error(t.coord, list(ctx.path))
            return _BUBBLE
        return None
    kind = t.kind
    if kind == _COMPOSITE:
        if type(value) is not dict:
            return _invalid(t, ctx, "expected an object")
        if t.sel.hidden_type(value):
            ctx.errors.append({"message": f"Invalid __typename found for object at {t.coord}.", "path": list(ctx.path)})
            return _BUBBLE if t.nonnull else None
        r = _project_object(value, t.sel, ctx)
        if r is _BUBBLE:
            return _BUBBLE if t.nonnull else None
        return r
    if kind == _LIST:
        if type(value) is not list:
            return _invalid(t, ctx, "expected a list")
        item_t = t.of
        out: list[Any] = []
        path = ctx.path
        failed = False
        if item_t.kind == _SCALAR and not item_t.nonnull:
            return value
        for i, item in enumerate(value):
            path.append(i)
            r = _complete(item, item_t, ctx)
            path.pop()
            if r is _BUBBLE:
                failed = True
            else:
                out.append(r)
        if failed:
            return _BUBBLE if t.nonnull else None
        return out
    if kind == _ENUM:
        if value in t.values:
            return value
        ctx.errors.append(
            {"message": f'Enum "{t.enum_name}" cannot represent value: {_short_repr(value)}', "path": list(ctx.path)}
        )
        return _BUBBLE if t.nonnull else None
    return value


def _invalid(t: _Type, ctx: _Ctx, why: str) -> Any:
    ctx.errors.append({"message": f"Invalid value for {t.coord}: {why}", "path": list(ctx.path)})
    return _BUBBLE if t.nonnull else None


def _short_repr(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return repr(value)


def _denied(f: _Field, ctx: _Ctx) -> bool:
    """Report a denied field (or fragment, at the object's path); True when the null must bubble."""
    if f.kind == _F_DENIED_FRAGMENT:
        ctx.errors.append(unauthorized_error(list(ctx.path)))
        return False
    ctx.errors.append(unauthorized_error([*ctx.path, f.key]))
    return f.type.nonnull


def _project_object(obj: dict[str, Any], sel: _SelectionSet, ctx: _Ctx) -> Any:
    typename = obj.get("__typename") or sel.default_typename
    fields = sel.by_type.get(typename)
    if fields is None:
        fields = sel.fields_for(typename)
    out: dict[str, Any] = {}
    bubbled = False
    path = ctx.path
    for f in fields:
        key = f.key
        if f.scalar:
            v = obj.get(key)
            if v is not None or not f.type.nonnull:
                out[key] = v
                continue
        elif f.kind == _F_TYPENAME:
            out[key] = typename
            continue
        elif f.kind == _F_INTROSPECTION:
            out[key] = ctx.introspection.get(key)
            continue
        elif f.kind >= _F_DENIED:
            if _denied(f, ctx):
                bubbled = True
            elif f.kind == _F_DENIED:
                out[key] = None
            continue
        path.append(key)
        r = _complete(obj.get(key), f.type, ctx)
        path.pop()
        if r is _BUBBLE:
            bubbled = True
        else:
            out[key] = r
    return _BUBBLE if bubbled else out


class OperationProjection:
    """The compiled projection of one client operation against the API schema."""

    __slots__ = ("schema", "operation", "fragments", "condition_vars", "_roots", "root_type", "denied", "deferred")

    def __init__(
        self,
        schema: GraphQLSchema,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        *,
        denied: frozenset[int] = frozenset(),
        deferred: frozenset[int] = frozenset(),
    ) -> None:
        self.schema = schema
        self.denied = denied
        self.deferred = deferred
        self.operation = operation
        self.fragments = dict(fragments)
        root = schema.get_root_type(operation.operation)
        if root is None:
            raise ValueError(f"schema has no {operation.operation.value} root type")
        self.root_type = root
        self.condition_vars = tuple(sorted(_condition_variables(operation, self.fragments)))
        self._roots: dict[tuple[Any, ...], _SelectionSet] = {}

    def _root(self, conditions: Mapping[str, Any]) -> _SelectionSet:
        sig = tuple(conditions.get(v) is True for v in self.condition_vars)
        root = self._roots.get(sig)
        if root is None:
            conditions = dict(zip(self.condition_vars, sig, strict=True))
            compiler = _Compiler(self.schema, self.fragments, conditions, self.denied, self.deferred)
            root = _SelectionSet(compiler, [self.operation.selection_set], self.root_type)
            if len(self._roots) < 64:
                self._roots[sig] = root
        return root

    def project(
        self,
        data: dict[str, Any] | None,
        *,
        conditions: Mapping[str, Any],
        covered: Sequence[tuple[Any, ...]] = (),
        introspection: Mapping[str, Any] | None = None,
    ) -> ProjectionResult:
        ctx = _Ctx(covered, introspection)
        root = self._root(conditions)
        obj = data if data is not None else {}
        # The root object's __typename is the root type, whatever a subgraph said.
        fields = root.fields_for(self.root_type.name)
        out: dict[str, Any] = {}
        bubbled = False
        for f in fields:
            key = f.key
            if f.kind == _F_TYPENAME:
                out[key] = self.root_type.name
            elif f.kind == _F_INTROSPECTION:
                out[key] = ctx.introspection.get(key)
            elif f.kind >= _F_DENIED:
                if _denied(f, ctx):
                    bubbled = True
                elif f.kind == _F_DENIED:
                    out[key] = None
            else:
                ctx.path.append(key)
                r = _complete(obj.get(key), f.type, ctx)
                ctx.path.pop()
                if r is _BUBBLE:
                    bubbled = True
                else:
                    out[key] = r
        return ProjectionResult(None if bubbled else out, ctx.errors)


class FragmentProjection:
    """Projection of one deferred fragment's selections at one object (docs/router.md §10 @defer and
    incremental delivery): the rules of :class:`OperationProjection`, nested active ``@defer`` s left to
    their own payloads. Null propagation stops at the fragment: a null in a non-null field makes this
    payload's data null."""

    __slots__ = ("_compiler", "_sets")

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        conditions: Mapping[str, Any],
        *,
        denied: frozenset[int] = frozenset(),
        deferred: frozenset[int] = frozenset(),
    ) -> None:
        self._compiler = _Compiler(schema, fragments, conditions, denied, deferred)
        self._sets: dict[tuple[int, str], _SelectionSet] = {}

    def applies(self, guards: Sequence[Any], type_condition: str | None, obj: dict[str, Any], static: str) -> bool:
        """Do the fragment and the fragments around it (``guards``) apply to ``obj``?"""
        compiler = self._compiler
        static_type = compiler.schema.get_type(static)
        if static_type is None:
            return False
        runtime = obj.get("__typename") or static
        for g in guards:
            if not compiler.included(g):
                return False
            if not compiler.applies(_condition_of(g, compiler.fragments), runtime, static_type):
                return False
        return compiler.applies(type_condition, runtime, static_type)

    def project(
        self,
        selection_set: SelectionSetNode,
        obj: dict[str, Any],
        static: str,
        path: list[str | int],
        *,
        covered: Sequence[tuple[Any, ...]] = (),
        root: bool = False,
    ) -> ProjectionResult:
        key = (id(selection_set), static)
        sel = self._sets.get(key)
        if sel is None:
            sel = self._sets[key] = _SelectionSet(
                self._compiler, [selection_set], self._compiler.schema.get_type(static)
            )
        ctx = _Ctx(covered, None)
        ctx.path = list(path)
        if root:  # the root object's __typename is the root type, whatever a subgraph said
            obj = {**obj, "__typename": static}
        r = _project_object(obj, sel, ctx)
        return ProjectionResult(None if r is _BUBBLE else r, ctx.errors)


def _condition_of(node: Any, fragments: Mapping[str, FragmentDefinitionNode]) -> str | None:
    if isinstance(node, InlineFragmentNode):
        return node.type_condition.name.value if node.type_condition else None
    if isinstance(node, FragmentSpreadNode):
        frag = fragments.get(node.name.value)
        return frag.type_condition.name.value if frag is not None else None
    return None


def _condition_variables(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> set[str]:
    found: set[str] = set()
    seen: set[str] = set()

    def walk(selection_set: SelectionSetNode | None) -> None:
        if selection_set is None:
            return
        for sel in selection_set.selections:
            for d in sel.directives or ():
                if d.name.value in ("skip", "include"):
                    for arg in d.arguments or ():
                        if isinstance(arg.value, VariableNode):
                            found.add(arg.value.name.value)
            if isinstance(sel, (FieldNode, InlineFragmentNode)):
                walk(sel.selection_set)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                if name not in seen:
                    seen.add(name)
                    frag = fragments.get(name)
                    if frag is not None:
                        walk(frag.selection_set)

    walk(operation.selection_set)
    return found
