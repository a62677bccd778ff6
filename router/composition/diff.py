"""Schema check: the changes between two API schemas, each marked breaking or safe for existing clients.

A supergraph is reduced to its API schema first (join/link machinery and `@inaccessible` elements removed,
via `router.supergraph.load_supergraph`), so only what clients can see is compared. Breaking means an
operation valid against the old schema may fail or change meaning against the new one.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    build_ast_schema,
    parse,
)
from graphql.error import GraphQLError

__all__ = ["SchemaChange", "diff_command", "diff_schemas", "load_api_schema"]

DEFAULT_SUPERGRAPH_PATH = Path("schema/supergraph.graphql")


@dataclass(frozen=True)
class SchemaChange:
    kind: str
    breaking: bool
    path: str
    message: str

    def __str__(self) -> str:
        return f"{'BREAKING' if self.breaking else 'safe    '} {self.kind} {self.path}: {self.message}"


def load_api_schema(sdl: str) -> GraphQLSchema:
    """API schema of a supergraph SDL, or the schema itself for a plain SDL."""
    if "specs.apollo.dev/join/" in sdl:
        from router.supergraph import load_supergraph

        return load_supergraph(sdl).api_schema
    return build_ast_schema(parse(sdl), assume_valid_sdl=True)


def _kind(t: GraphQLNamedType) -> str:
    return type(t).__name__.removeprefix("GraphQL").removesuffix("Type").upper()


def _output_safe(old: str, new: str) -> bool:
    """A new output type is safe if every value it produces is valid for the old type (stricter or equal)."""
    if old.endswith("!"):
        return new.endswith("!") and _output_safe(old[:-1], new[:-1])
    new = new[:-1] if new.endswith("!") else new
    if old.startswith("["):
        return new.startswith("[") and _output_safe(old[1:-1], new[1:-1])
    return old == new


def _input_safe(old: str, new: str) -> bool:
    """A new input type is safe if every value accepted before is still accepted (looser or equal)."""
    return _output_safe(new, old)


Add = Callable[[str, bool, str, str], None]  # add(kind, breaking, path, message)


def diff_schemas(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    changes: list[SchemaChange] = []

    def add(kind: str, breaking: bool, path: str, message: str) -> None:
        changes.append(SchemaChange(kind, breaking, path, message))

    old_types = {n: t for n, t in old.type_map.items() if not n.startswith("__")}
    new_types = {n: t for n, t in new.type_map.items() if not n.startswith("__")}
    for name in sorted(set(old_types) - set(new_types)):
        add("TYPE_REMOVED", True, name, f'type "{name}" was removed (or renamed)')
    for name in sorted(set(new_types) - set(old_types)):
        add("TYPE_ADDED", False, name, f'type "{name}" was added')
    for name in sorted(set(old_types) & set(new_types)):
        o, n = old_types[name], new_types[name]
        if type(o) is not type(n):
            add("TYPE_KIND_CHANGED", True, name, f'type "{name}" changed from {_kind(o)} to {_kind(n)}')
        elif isinstance(o, (GraphQLObjectType, GraphQLInterfaceType)):
            assert isinstance(n, (GraphQLObjectType, GraphQLInterfaceType))
            _diff_composite(name, o, n, add)
        elif isinstance(o, GraphQLUnionType):
            assert isinstance(n, GraphQLUnionType)
            _diff_union(name, o, n, add)
        elif isinstance(o, GraphQLEnumType):
            assert isinstance(n, GraphQLEnumType)
            _diff_enum(name, o, n, add)
        elif isinstance(o, GraphQLInputObjectType):
            assert isinstance(n, GraphQLInputObjectType)
            _diff_input(name, o, n, add)
    return changes


def _diff_composite(
    name: str, o: GraphQLObjectType | GraphQLInterfaceType, n: GraphQLObjectType | GraphQLInterfaceType, add: Add
) -> None:
    _diff_fields(name, o, n, add)
    old_ifaces = {i.name for i in o.interfaces}
    new_ifaces = {i.name for i in n.interfaces}
    for i in sorted(old_ifaces - new_ifaces):
        add("IMPLEMENTATION_REMOVED", True, name, f'"{name}" no longer implements interface "{i}"')
    for i in sorted(new_ifaces - old_ifaces):
        add("IMPLEMENTATION_ADDED", False, name, f'"{name}" now implements interface "{i}"')


def _diff_union(name: str, o: GraphQLUnionType, n: GraphQLUnionType, add: Add) -> None:
    om, nm = {t.name for t in o.types}, {t.name for t in n.types}
    for m in sorted(om - nm):
        add("UNION_MEMBER_REMOVED", True, name, f'"{m}" was removed from union "{name}"')
    for m in sorted(nm - om):
        add("UNION_MEMBER_ADDED", False, name, f'"{m}" was added to union "{name}"')


def _diff_enum(name: str, o: GraphQLEnumType, n: GraphQLEnumType, add: Add) -> None:
    for v in sorted(set(o.values) - set(n.values)):
        add("ENUM_VALUE_REMOVED", True, f"{name}.{v}", f'value "{v}" was removed from enum "{name}"')
    for v in sorted(set(n.values) - set(o.values)):
        add("ENUM_VALUE_ADDED", False, f"{name}.{v}", f'value "{v}" was added to enum "{name}"')


@dataclass(frozen=True)
class _InputWording:
    """How a change to one kind of input value is reported (``{owner}``, ``{name}``, ``{required}``, ...)."""

    kind: str
    coordinate: str
    removed: str
    added: str
    changed: str


_INPUT_FIELD = _InputWording(
    "INPUT_FIELD",
    "{owner}.{name}",
    removed='input field "{owner}.{name}" was removed',
    added='{required} input field "{owner}.{name}" was added',
    changed='input field "{owner}.{name}" changed type from "{old}" to "{new}"',
)
_ARGUMENT = _InputWording(
    "ARGUMENT",
    "{owner}({name}:)",
    removed='argument "{name}" was removed from "{owner}"',
    added='{required} argument "{name}" was added to "{owner}"',
    changed='argument "{name}" of "{owner}" changed type from "{old}" to "{new}"',
)


def _diff_input_values(
    owner: str,
    old: Mapping[str, GraphQLInputField | GraphQLArgument],
    new: Mapping[str, GraphQLInputField | GraphQLArgument],
    add: Add,
    wording: _InputWording,
) -> None:
    """An input type's fields and a field's arguments follow one rule: removing one, adding a required one
    (non-null, no default) or changing a type to one that old values may not fit breaks clients."""
    for name in sorted(set(old) - set(new)):
        at = wording.coordinate.format(owner=owner, name=name)
        add(f"{wording.kind}_REMOVED", True, at, wording.removed.format(owner=owner, name=name))
    for name in sorted(set(new) - set(old)):
        value = new[name]
        required = str(value.type).endswith("!") and value.default_value is _undefined()
        at = wording.coordinate.format(owner=owner, name=name)
        text = wording.added.format(owner=owner, name=name, required="required" if required else "optional")
        add(f"{wording.kind}_ADDED", required, at, text)
    for name in sorted(set(old) & set(new)):
        old_type, new_type = str(old[name].type), str(new[name].type)
        if old_type != new_type:
            at = wording.coordinate.format(owner=owner, name=name)
            text = wording.changed.format(owner=owner, name=name, old=old_type, new=new_type)
            add(f"{wording.kind}_TYPE_CHANGED", not _input_safe(old_type, new_type), at, text)


def _diff_input(name: str, o: GraphQLInputObjectType, n: GraphQLInputObjectType, add: Add) -> None:
    _diff_input_values(name, o.fields, n.fields, add, _INPUT_FIELD)


def _undefined() -> object:
    from graphql.pyutils import Undefined

    return Undefined


def _diff_fields(
    name: str, o: GraphQLObjectType | GraphQLInterfaceType, n: GraphQLObjectType | GraphQLInterfaceType, add: Add
) -> None:
    for f in sorted(set(o.fields) - set(n.fields)):
        add("FIELD_REMOVED", True, f"{name}.{f}", f'field "{name}.{f}" was removed (or renamed)')
    for f in sorted(set(n.fields) - set(o.fields)):
        add("FIELD_ADDED", False, f"{name}.{f}", f'field "{name}.{f}" was added')
    for f in sorted(set(o.fields) & set(n.fields)):
        of, nf = o.fields[f], n.fields[f]
        path = f"{name}.{f}"
        ot, nt = str(of.type), str(nf.type)
        if ot != nt:
            add(
                "FIELD_TYPE_CHANGED",
                not _output_safe(ot, nt),
                path,
                f'field "{path}" changed type from "{ot}" to "{nt}"',
            )
        if nf.deprecation_reason and not of.deprecation_reason:
            add("FIELD_DEPRECATED", False, path, f'field "{path}" was deprecated')
        _diff_input_values(path, of.args, nf.args, add, _ARGUMENT)
        for a in sorted(set(of.args) & set(nf.args)):
            if str(of.args[a].type) == str(nf.args[a].type) and of.args[a].default_value != nf.args[a].default_value:
                add(
                    "ARGUMENT_DEFAULT_CHANGED", False, f"{path}({a}:)", f'default of argument "{a}" of "{path}" changed'
                )


def _git_show(rev: str, path: Path) -> str:
    proc = subprocess.run(["git", "show", f"{rev}:{path.as_posix()}"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise OSError(proc.stderr.strip() or f"git show {rev}:{path} failed")
    return proc.stdout


def diff_command(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    """`diff OLD NEW` or `diff --base REV [--schema PATH]`; exit 1 when a breaking change exists."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = argparse.ArgumentParser(prog="diff", description="Report breaking changes between two API schemas.")
    parser.add_argument("files", nargs="*", type=Path, help="OLD.graphql NEW.graphql")
    parser.add_argument("--base", help="git revision holding the old schema (compared with the working copy)")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SUPERGRAPH_PATH, help="schema path for --base")
    args = parser.parse_args(argv)
    try:
        if args.base:
            if args.files:
                parser.error("give either --base REV or OLD NEW, not both")
            old_sdl, new_sdl = _git_show(args.base, args.schema), args.schema.read_text(encoding="utf-8")
        elif len(args.files) == 2:
            old_sdl, new_sdl = (p.read_text(encoding="utf-8") for p in args.files)
        else:
            parser.error("give OLD NEW files or --base REV")
        old, new = load_api_schema(old_sdl), load_api_schema(new_sdl)
    except (OSError, GraphQLError, TypeError, ValueError) as exc:
        print(f"ERROR cannot read schemas: {exc}", file=err)
        return 2
    except Exception as exc:  # the supergraph loader's own error type
        print(f"ERROR cannot load schema: {exc}", file=err)
        return 2
    changes = diff_schemas(old, new)
    for change in changes:
        print(str(change), file=out)
    breaking = [c for c in changes if c.breaking]
    print(f"{len(changes)} change(s), {len(breaking)} breaking", file=out)
    return 1 if breaking else 0
