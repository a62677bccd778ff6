"""Random, valid GraphQL queries over an API schema, reproducible from a seed.

Each operation picks random fields (with random arguments, some passed as variables), and mixes in what
trips planners up: aliases, named fragments, inline fragments on the possible types of abstract types (and
without a type condition), ``__typename``, and ``@skip``/``@include`` with literal or variable conditions.
Only what graphql-core validates against the schema is returned (see ``OperationGenerator.operation``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    parse,
    validate,
)

__all__ = ["GeneratedOperation", "OperationGenerator"]

_MAX_DEPTH = 4
_INTS = (0, 1, 2, 3, 5, 10)


@dataclass
class GeneratedOperation:
    query: str
    variables: dict[str, Any]

    def describe(self) -> str:
        return f"{self.query}\nvariables: {json.dumps(self.variables)}"


@dataclass
class _Build:
    """One operation under construction: its variables and named fragments."""

    rng: random.Random
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    aliases: int = 0

    def variable(self, type_text: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = (type_text, value)
        return f"${name}"

    def alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}"


class OperationGenerator:
    """``OperationGenerator(schema, seed, strings=...)``: ``operation()`` returns the next valid query.

    ``strings`` are the values tried for ID and String arguments (ids and terms the subgraphs know, so
    lookups hit data as often as they miss); ``scalars`` the values tried for custom scalars by name (else
    ``strings``); ``skip`` names fields (``"Type.field"``) never selected, such as a field whose value is the
    time of the request and so differs between any two gateways."""

    def __init__(
        self,
        schema: GraphQLSchema,
        seed: int,
        *,
        strings: Sequence[str] = ("1", "2"),
        scalars: Mapping[str, Sequence[Any]] | None = None,
        skip: Collection[str] = (),
    ) -> None:
        self.schema = schema
        self.rng = random.Random(seed)
        self.strings = tuple(strings) or ("1",)
        self.scalars = {name: tuple(values) for name, values in (scalars or {}).items()}
        self.skip = frozenset(skip)
        self.rejected = 0

    def operation(self) -> GeneratedOperation:
        for _ in range(50):
            op = self._candidate()
            if not validate(self.schema, parse(op.query)):
                return op
            self.rejected += 1
        raise RuntimeError("50 candidates in a row were invalid: the generator does not fit this schema")

    # -- one candidate --------------------------------------------------------------------

    def _candidate(self) -> GeneratedOperation:
        build = _Build(self.rng)
        query_type = self.schema.query_type
        assert query_type is not None
        body = self._selection_set(build, query_type, 0)
        header = ""
        if build.variables:
            header = "(" + ", ".join(f"${n}: {t}" for n, (t, _) in build.variables.items()) + ")"
        text = f"query Q{header} {body}"
        if build.fragments:
            text += "\n" + "\n".join(build.fragments)
        return GeneratedOperation(text, {n: v for n, (_, v) in build.variables.items()})

    def _selection_set(self, build: _Build, parent: GraphQLNamedType, depth: int) -> str:
        parts = self._fields(build, parent, depth) if not isinstance(parent, GraphQLUnionType) else []
        if isinstance(parent, (GraphQLInterfaceType, GraphQLUnionType)):
            parts += self._type_fragments(build, parent, depth)
        if not parts or self.rng.random() < 0.15:
            parts.append("__typename")
        parts = self._maybe_wrap(build, parent, parts)
        return "{ " + " ".join(parts) + " }"

    def _fields(self, build: _Build, parent: GraphQLNamedType, depth: int) -> list[str]:
        assert isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType))
        names = [
            n for n, f in parent.fields.items() if self._usable(f, depth) and f"{parent.name}.{n}" not in self.skip
        ]
        if not names:
            return []
        count = self.rng.randint(1, min(4, len(names)))
        return [self._field(build, name, parent.fields[name], depth) for name in self.rng.sample(names, count)]

    def _usable(self, fdef: GraphQLField, depth: int) -> bool:
        named = get_named_type(fdef.type)
        if depth >= _MAX_DEPTH and not isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            return False
        return all(self._can_build(a.type) for a in fdef.args.values() if isinstance(a.type, GraphQLNonNull))

    def _can_build(self, gtype: GraphQLInputType) -> bool:
        named = get_named_type(gtype)
        if isinstance(named, GraphQLInputObjectType):
            return all(self._can_build(f.type) for f in named.fields.values() if isinstance(f.type, GraphQLNonNull))
        return isinstance(named, (GraphQLScalarType, GraphQLEnumType))

    def _field(self, build: _Build, name: str, fdef: GraphQLField, depth: int) -> str:
        text = name
        if self.rng.random() < 0.2:
            text = f"{build.alias()}: {name}"
        args = self._arguments(build, fdef)
        if args:
            text += "(" + ", ".join(args) + ")"
        text += self._condition(build)
        named = get_named_type(fdef.type)
        if not isinstance(named, (GraphQLScalarType, GraphQLEnumType)):
            text += " " + self._selection_set(build, named, depth + 1)
        return text

    def _arguments(self, build: _Build, fdef: GraphQLField) -> list[str]:
        out = []
        for arg_name, arg in fdef.args.items():
            required = isinstance(arg.type, GraphQLNonNull)
            if not required and (self.rng.random() < 0.6 or not self._can_build(arg.type)):
                continue
            value = self._input_value(arg.type)
            if self.rng.random() < 0.3:
                out.append(f"{arg_name}: {build.variable(str(arg.type), value)}")
            else:
                out.append(f"{arg_name}: {_literal(value, arg.type)}")
        return out

    def _condition(self, build: _Build) -> str:
        roll = self.rng.random()
        if roll >= 0.12:
            return ""
        directive = "skip" if roll < 0.06 else "include"
        value = self.rng.random() < 0.5
        cond = build.variable("Boolean!", value) if self.rng.random() < 0.5 else json.dumps(value)
        return f" @{directive}(if: {cond})"

    def _type_fragments(self, build: _Build, parent: GraphQLNamedType, depth: int) -> list[str]:
        assert isinstance(parent, (GraphQLInterfaceType, GraphQLUnionType))
        possible = list(self.schema.get_possible_types(parent))
        out = []
        for member in self.rng.sample(possible, self.rng.randint(0, len(possible))):
            out.append(f"... on {member.name}{self._condition(build)} {self._selection_set(build, member, depth)}")
        return out

    def _maybe_wrap(self, build: _Build, parent: GraphQLNamedType, parts: list[str]) -> list[str]:
        """Move some selections into a named fragment or an inline fragment (with or without a type)."""
        roll = self.rng.random()
        if roll >= 0.3 or len(parts) < 2:
            return parts
        cut = self.rng.randint(1, len(parts) - 1)
        inner, outer = parts[:cut], parts[cut:]
        if roll < 0.15:
            name = f"F{len(build.fragments)}"
            build.fragments.append(f"fragment {name} on {parent.name} {{ {' '.join(inner)} }}")
            return [f"...{name}", *outer]
        on = f" on {parent.name}" if roll < 0.22 else ""
        return [f"...{on}{self._condition(build)} {{ {' '.join(inner)} }}", *outer]

    # -- argument values --------------------------------------------------------------------

    def _input_value(self, gtype: GraphQLInputType) -> Any:
        if isinstance(gtype, GraphQLNonNull):
            return self._input_value(gtype.of_type)
        if isinstance(gtype, GraphQLList):
            return [self._input_value(gtype.of_type) for _ in range(self.rng.randint(1, 2))]
        if isinstance(gtype, GraphQLInputObjectType):
            return {
                n: self._input_value(f.type)
                for n, f in gtype.fields.items()
                if isinstance(f.type, GraphQLNonNull) or self.rng.random() < 0.3
            }
        if isinstance(gtype, GraphQLEnumType):
            return self.rng.choice(list(gtype.values))
        return self._scalar(gtype)

    def _scalar(self, gtype: Any) -> Any:
        name = gtype.name
        if name == "Int":
            return self.rng.choice(_INTS)
        if name == "Float":
            return self.rng.choice(_INTS) + 0.5
        if name == "Boolean":
            return self.rng.random() < 0.5
        return self.rng.choice(self.scalars.get(name) or self.strings)


def _literal(value: Any, gtype: Any) -> str:
    """``value`` written as a GraphQL literal of ``gtype`` (enum values bare)."""
    if isinstance(gtype, GraphQLNonNull):
        return _literal(value, gtype.of_type)
    if isinstance(gtype, GraphQLList):
        return "[" + ", ".join(_literal(v, gtype.of_type) for v in value) + "]"
    if isinstance(gtype, GraphQLInputObjectType):
        return "{" + ", ".join(f"{k}: {_literal(v, gtype.fields[k].type)}" for k, v in value.items()) + "}"
    if isinstance(gtype, GraphQLEnumType):
        return str(value)
    return json.dumps(value)
