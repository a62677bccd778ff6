"""``@context`` / ``@fromContext`` (federation v2.8) in composition (docs/router.md §5.7 Contexts).

A subgraph type sets a named context; an argument reads a selection from the nearest ancestor setting it
(``@fromContext(field: "$name { selection }")``). As Apollo's composer encodes it: the context is qualified by
the subgraph (``<subgraph>__<name>``) and set with ``@context(name:)`` on the supergraph type; the argument leaves
the supergraph (and the API schema) and the field's ``@join__field`` carries it in ``contextArguments``, filled by
the router.
"""

from __future__ import annotations

import json
import re

from .diagnostics import CompositionError
from .fieldset_rules import walk_field_set
from .subgraph_model import ContextArg, FieldDef, Subgraph, TypeDef

__all__ = [
    "CONTEXT_DEFINITIONS",
    "CONTEXT_LINK",
    "CONTEXT_TYPES",
    "ContextArg",
    "context_coords",
    "print_context_arguments",
    "read_from_context",
    "validate_contexts",
]

CONTEXT_LINK = '@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)'
CONTEXT_DEFINITIONS = (
    "directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION\n\n"
    "directive @context__fromContext(field: context__ContextFieldValue) on ARGUMENT_DEFINITION"
)
CONTEXT_TYPES = "scalar context__ContextFieldValue"

_FIELD = re.compile(r"^\s*\$([_A-Za-z][_0-9A-Za-z]*)(.*)$", re.DOTALL)


def read_from_context(name: str, type_str: str, field: str) -> ContextArg | None:
    m = _FIELD.match(field)
    if m is None:
        return None
    return ContextArg(name, type_str, m.group(1), m.group(2))


def print_context_arguments(graph: str, args: list[ContextArg]) -> str:
    items = [
        f"{{context: {json.dumps(graph + '__' + a.context)}, name: {json.dumps(a.name)}, "
        f"type: {json.dumps(a.type)}, selection: {json.dumps(a.selection)}}}"
        for a in args
    ]
    return "contextArguments: [" + ", ".join(items) + "]"


def _selection_text(selection: str) -> str:
    text = selection.strip()
    return text[1:-1] if text.startswith("{") and text.endswith("}") else text


def context_coords(sub: Subgraph) -> set[tuple[str, str]]:
    """(type, field) selected by some ``@fromContext`` on a type setting its context: an ``@external`` field
    used so is in use."""
    out: set[tuple[str, str]] = set()
    for t in sub.types.values():
        for f in t.fields.values():
            for ca in f.context_args:
                for setter in (x for x in sub.types.values() if ca.context in x.contexts):
                    found, _ = walk_field_set(sub, setter.name, _selection_text(ca.selection))
                    out |= {(sel.parent, sel.name) for sel in found}
    return out


_CONTEXT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def _context_name_problem(name: str) -> str | None:
    """Apollo's rule: a letter, then letters and digits; an underscore gets its own message (the supergraph
    qualifies the name as ``<subgraph>__<name>``)."""
    if "_" in name:
        return "may not contain an underscore."
    if not _CONTEXT_NAME.match(name):
        return "is invalid. It should have only alphanumeric characters."
    return None


_NO_SUCH_FIELD = re.compile(r'^cannot query field "([^"]+)" on type "([^"]+)" \(no such field\)$')


def _selection_errors(sub: Subgraph, t: TypeDef, f: FieldDef, ca: ContextArg) -> list[CompositionError]:
    """The selection must be valid on every type setting the context (CONTEXT_INVALID_SELECTION), since the router
    reads it from whichever of them is the nearest ancestor."""
    errors: list[CompositionError] = []
    for setter in (x for x in sub.types.values() if ca.context in x.contexts):
        _, problems = walk_field_set(sub, setter.name, _selection_text(ca.selection))
        if not problems:
            continue
        m = _NO_SUCH_FIELD.match(problems[0].message)
        detail = f'Cannot query field "{m.group(1)}" on type "{m.group(2)}".' if m else problems[0].message
        errors.append(
            CompositionError(
                "CONTEXT_INVALID_SELECTION",
                f'[{sub.name}] Context "{ca.context}" is used in "{t.name}.{f.name}({ca.name}:)" but the selection is '
                f"invalid for type {setter.name}. Error: {detail}",
                sub.name,
                t.name,
                f.name,
            )
        )
    return errors


def _placement_problems(sub: Subgraph, t: TypeDef, f: FieldDef) -> list[str]:
    """Where Apollo's composer refuses a ``@fromContext`` argument (all under CONTEXT_NOT_SET, its code for them):
    with a default value, on an interface field, or on a field implementing one (the router fills the argument
    for that one field of that one type)."""
    out = [
        f'@fromContext arguments may not have a default value: "{t.name}.{f.name}({a}:)".' for a in f.context_defaults
    ]
    if not f.context_args:
        return out
    if t.kind == "interface":
        out += [
            "@fromContext argument cannot be used on a field that exists on an abstract type "
            f'"{t.name}.{f.name}({ca.name}:)".'
            for ca in f.context_args
        ]
    for i in t.interfaces:
        iface = sub.types.get(i)
        if iface is not None and f.name in iface.fields:
            out.append(
                f'@fromContext argument cannot be used on a field implementing an interface field "{i}.{f.name}".'
            )
    return out


def validate_contexts(sub: Subgraph) -> list[CompositionError]:
    """Each ``@fromContext`` names ``$context`` followed by a selection, a context some type of this subgraph
    sets; its field's type has a resolvable key (the router reaches the field through ``_entities``)."""
    errors: list[CompositionError] = []
    contexts = {c for t in sub.types.values() for c in t.contexts}
    for t in sub.types.values():
        for name in t.contexts:
            problem = _context_name_problem(name)
            if problem:
                errors.append(
                    CompositionError(
                        "CONTEXT_NAME_INVALID", f'[{sub.name}] Context name "{name}" {problem}', sub.name, t.name
                    )
                )
    for t in sub.types.values():
        for f in t.fields.values():
            for a in f.bad_context_args:
                errors.append(
                    CompositionError(
                        "NO_CONTEXT_IN_SELECTION",
                        f'@fromContext on "{t.name}.{f.name}({a}:)" must start with "$<context name>"',
                        sub.name,
                        t.name,
                        f.name,
                    )
                )
            for ca in f.context_args:
                if ca.context not in contexts:
                    errors.append(
                        CompositionError(
                            "CONTEXT_NOT_SET",
                            f'Context "{ca.context}" is used at "{t.name}.{f.name}({ca.name}:)" but is never set',
                            sub.name,
                            t.name,
                            f.name,
                        )
                    )
                if not ca.selection.strip():
                    errors.append(
                        CompositionError(
                            "NO_CONTEXT_IN_SELECTION",
                            f'@fromContext on "{t.name}.{f.name}({ca.name}:)" selects nothing from "{ca.context}"',
                            sub.name,
                            t.name,
                            f.name,
                        )
                    )
            for ca in f.context_args:
                errors += _selection_errors(sub, t, f, ca)
            placement = _placement_problems(sub, t, f)
            errors += [
                CompositionError("CONTEXT_NOT_SET", f"[{sub.name}] {m}", sub.name, t.name, f.name) for m in placement
            ]
            if f.context_args and t.kind != "interface" and not any(k.resolvable for k in t.keys):
                errors.append(
                    CompositionError(
                        "CONTEXT_NO_RESOLVABLE_KEY",
                        f'"{t.name}.{f.name}" reads a context, so "{t.name}" needs a resolvable @key',
                        sub.name,
                        t.name,
                        f.name,
                    )
                )
    return errors
