"""Keys on interfaces (federation 2.3, "entity interfaces"), checked as Apollo's composer checks them
(docs/router.md §5.2).

A graph that puts `@key` on an interface promises to resolve any implementation from that key: the router may send it
`{__typename: "I", id}` for an object whose concrete type it does not know yet. So in that subgraph every
implementation must carry the same key, resolvable (`INTERFACE_KEY_NOT_ON_IMPLEMENTATION`), and with a resolvable
interface key the subgraph must define every implementation the supergraph has
(`INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE`), or the router could not turn the reference into the right object.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import GraphQLSyntaxError
from graphql.language import FieldNode, SelectionSetNode

from .diagnostics import CompositionError
from .fieldset_rules import parse_field_set
from .subgraph_model import Key, Subgraph, TypeDef

__all__ = ["interface_key_errors", "interface_object_errors", "missing_implementation_errors"]


def interface_key_errors(sub: Subgraph) -> list[CompositionError]:
    """Per interface key of ``sub``: implementations without it, else implementations where it is not resolvable."""
    errors: list[CompositionError] = []
    for iface in sub.types.values():
        if iface.kind != "interface" or not sub.fed2:
            continue
        impls = [t for t in sub.types.values() if t.kind == "object" and iface.name in t.interfaces]
        for key in iface.keys:
            wanted = _canonical(key.fields)
            matches = {t.name: [k for k in t.keys if _canonical(k.fields) == wanted] for t in impls}
            missing = [name for name, found in matches.items() if not found]
            if missing:
                noun = "type" if len(missing) == 1 else "types"
                message = (
                    f'Key {_print_key(key)} on interface type "{iface.name}" is missing on implementation {noun} '
                    f"{_names(missing)}."
                )
            elif key.resolvable and (
                closed := [n for n, found in matches.items() if not any(k.resolvable for k in found)]
            ):
                noun = "type" if len(closed) == 1 else "types"
                message = (
                    f'Key {_print_key(key)} on interface type "{iface.name}" should be resolvable on all '
                    'implementation types, but is declared with argument "@key(resolvable:)" set to false in '
                    f"{noun} {_names(closed)}."
                )
            else:
                continue
            errors.append(_error("INTERFACE_KEY_NOT_ON_IMPLEMENTATION", sub, iface, message))
    return errors


def missing_implementation_errors(subgraphs: Sequence[Subgraph]) -> list[CompositionError]:
    """A subgraph with a resolvable key on an interface lacks implementations other subgraphs declare."""
    implementations: dict[str, set[str]] = {}
    for sub in subgraphs:
        for t in sub.types.values():
            if t.kind == "object" and not t.interface_object:
                for i in t.interfaces:
                    implementations.setdefault(i, set()).add(t.name)
    errors: list[CompositionError] = []
    for sub in subgraphs:
        for iface in sub.types.values():
            key = next((k for k in iface.keys if k.resolvable), None)
            if iface.kind != "interface" or key is None:
                continue
            own = {t.name for t in sub.types.values() if t.kind == "object" and iface.name in t.interfaces}
            missing = sorted(implementations.get(iface.name, set()) - own)
            if not missing:
                continue
            many = len(missing) > 1
            message = (
                f'Interface type "{iface.name}" has a resolvable key ({_print_key(key)}) in subgraph "{sub.name}" but '
                f'that subgraph is missing some of the supergraph implementation types of "{iface.name}". Subgraph '
                f'"{sub.name}" should define type{"s" if many else ""} {_names(missing)} (and have '
                f'{"them" if many else "it"} implement "{iface.name}").'
            )
            errors.append(_error("INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE", sub, iface, message))
    return errors


def interface_object_errors(subgraphs: Sequence[Subgraph]) -> list[CompositionError]:
    """An ``@interfaceObject`` stands for an interface some other subgraph defines (INTERFACE_OBJECT_USAGE_ERROR when
    every subgraph has it only as an interface object: nobody knows its implementations)."""
    errors: list[CompositionError] = []
    names = sorted({n for sub in subgraphs for n, t in sub.types.items() if t.interface_object})
    for name in names:
        holders = [sub for sub in subgraphs if name in sub.types]
        if all(sub.types[name].interface_object for sub in holders):
            where = [sub.name for sub in holders]
            errors.append(
                CompositionError(
                    "INTERFACE_OBJECT_USAGE_ERROR",
                    f'Type "{name}" is declared with @interfaceObject in all the subgraphs in which it is defined (it '
                    f"is defined in subgraph{'s' if len(where) > 1 else ''} {_names(where)} but should be defined as "
                    "an interface in at least one subgraph)",
                    where[0],
                    name,
                )
            )
    return errors


def _error(code: str, sub: Subgraph, iface: TypeDef, message: str) -> CompositionError:
    return CompositionError(code, f"[{sub.name}] {message}", sub.name, iface.name)


def _print_key(key: Key) -> str:
    return f'@key(fields: "{key.fields}"{", resolvable: false" if not key.resolvable else ""})'


def _names(names: list[str]) -> str:
    """`"A"`, `"A" and "B"`, `"A", "B" and "C"` (Apollo's human-readable list)."""
    quoted = [f'"{n}"' for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _canonical(fields: str) -> str:
    """A field set independent of order and spacing (`id sku` == `sku  id`)."""
    try:
        return _print_sorted(parse_field_set(fields))
    except GraphQLSyntaxError:
        return fields


def _print_sorted(sel: SelectionSetNode) -> str:
    parts = []
    for s in sel.selections:
        if isinstance(s, FieldNode):
            inner = f" {{{_print_sorted(s.selection_set)}}}" if s.selection_set else ""
            parts.append(s.name.value + inner)
        else:
            parts.append(repr(s))
    return " ".join(sorted(parts))
