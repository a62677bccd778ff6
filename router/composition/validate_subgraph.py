"""Per-subgraph rules (docs/router.md §5.2 Subgraph rules): keys, @external, @requires, @provides,
@override; one function per rule.

Each check reads one `Subgraph` and returns errors; it also records which fields keys/requires/provides
use, because merging needs that (key fields are shareable, provided fields resolve, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .contexts import context_coords
from .diagnostics import CompositionError
from .fieldset_rules import field_set_directives, walk_field_set
from .subgraph_model import BUILTIN_SCALARS, FieldDef, Key, Subgraph, TypeDef, named_type

__all__ = ["validate_subgraph"]

_LABEL = re.compile(r"^(percent\((100|[0-9]{1,2}(\.[0-9]+)?)\)|[a-zA-Z][a-zA-Z0-9_\-:.]*)$")


Report = Callable[..., None]  # report(code, message, type_name=None, field_name=None)


def validate_subgraph(sub: Subgraph) -> list[CompositionError]:
    errors: list[CompositionError] = []
    s = sub.name

    def err(code: str, msg: str, type_name: str | None = None, field_name: str | None = None) -> None:
        where = f"{type_name}.{field_name}" if field_name else (type_name or "")
        errors.append(
            CompositionError(code, f"[{s}] {where}: {msg}" if where else f"[{s}] {msg}", s, type_name, field_name)
        )

    for t in sub.types.values():
        _check_type_references(sub, t, err)
    for t in sub.types.values():
        for key in t.keys:
            _check_key(sub, t, key, err)
    for t in sub.types.values():
        for f in t.fields.values():
            _check_requires(sub, t, f, err)
            _check_provides(sub, t, f, err)
    used = used_coords(sub)
    for t in sub.types.values():
        for f in list(t.fields.values()):
            _check_external(sub, t, f, field_used(sub, t, f.name, used), err)
            if sub.fed2 and f.external:
                for applied in f.merged_directives:
                    errors.append(
                        CompositionError(
                            "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL",
                            f'[{s}] Cannot apply merged directive {applied} to external field "{t.name}.{f.name}"',
                            s,
                            t.name,
                            f.name,
                        )
                    )
            _check_override(sub, t, f, err)
            if sub.fed2 and t.kind == "interface" and f.shareable:
                # Apollo's INVALID_SHAREABLE_USAGE: interface fields are never resolved, so never shared.
                err(
                    "INVALID_SHAREABLE_USAGE",
                    f'Invalid use of @shareable on field "{t.name}.{f.name}": only object type fields can be marked '
                    "with @shareable",
                    t.name,
                    f.name,
                )
        _check_access_on_interface(t, err)
    return errors


def _check_access_on_interface(t: TypeDef, err: Report) -> None:
    """Authorization directives go on object types and their fields: an interface's requirements are derived
    from its implementations when merging (Apollo's AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE)."""
    if t.kind != "interface" and not t.interface_object:
        return
    what = "interface object" if t.interface_object else "interface"
    if t.access is not None:
        err(
            "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE", f"authorization directives cannot be applied on an {what}", t.name
        )
    for f in t.fields.values():
        if f.access is not None:
            err(
                "AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE",
                f"authorization directives cannot be applied on the fields of an {what}",
                t.name,
                f.name,
            )


def _check_type_references(sub: Subgraph, t: TypeDef, err: Report) -> None:
    """Type references must resolve inside the subgraph."""
    refs = [(f.name, f.type) for f in t.fields.values()]
    refs += [(f"{f.name}({a.name}:)", a.type) for f in t.fields.values() for a in f.args.values()]
    for fname, ref in refs:
        if named_type(ref) not in sub.types and named_type(ref) not in BUILTIN_SCALARS:
            err("INVALID_GRAPHQL", f'unknown type "{named_type(ref)}"', t.name, fname)
    for other in t.interfaces + t.members:
        if other not in sub.types:
            err("INVALID_GRAPHQL", f'unknown type "{other}"', t.name)


def _check_key(sub: Subgraph, t: TypeDef, key: Key, err: Report) -> None:
    """@key: on objects and interfaces only; fields valid, without arguments, not interfaces or unions."""
    if t.kind not in ("object", "interface"):
        err("KEY_INVALID_FIELDS", f"@key is not allowed on {t.kind} type", t.name)
        return
    _check_directives_in_fields("key", key.fields, f'type "{t.name}"', err, t.name)
    found, problems = walk_field_set(sub, t.name, key.fields)
    for p in problems:
        err("KEY_INVALID_FIELDS", f'@key(fields: "{key.fields}") is invalid: {p.message}', t.name)
    for f in found:
        sub.key_field_coords.add((f.parent, f.name))
        if f.has_args:
            err(
                "KEY_FIELDS_HAS_ARGS",
                f'@key(fields: "{key.fields}") includes field "{f.parent}.{f.name}" that has arguments; '
                "key fields cannot take arguments",
                t.name,
                f.name,
            )
        kind = sub.type_kind(named_type(f.type))
        if kind in ("interface", "union"):  # lists are fine: Apollo's composer (2.14) accepts them
            err(
                "KEY_FIELDS_SELECT_INVALID_TYPE",
                f'On type "{t.name}", for @key(fields: "{key.fields}"): field "{f.parent}.{f.name}" is a '
                f"{kind.capitalize()} type which is not allowed in @key",
                t.name,
                f.name,
            )


def _check_requires(sub: Subgraph, t: TypeDef, f: FieldDef, err: Report) -> None:
    """@requires: a valid field set on the parent type whose top-level fields are @external."""
    if f.requires is None:
        return
    _check_unsupported_on_interface(sub, t, f, "requires", err)
    _check_directives_in_fields("requires", f.requires, f'field "{t.name}.{f.name}"', err, t.name, f.name)
    found, problems = walk_field_set(sub, t.name, f.requires)
    for p in problems:
        err("REQUIRES_INVALID_FIELDS", f'@requires(fields: "{f.requires}") is invalid: {p.message}', t.name, f.name)
    for sel in found:
        sub.required_coords.add((sel.parent, sel.name))
        for arg in sel.missing_required:
            err(
                "REQUIRES_INVALID_FIELDS",
                f'On field "{t.name}.{f.name}", for @requires(fields: "{f.requires}"): Missing mandatory value for '
                f'argument "{arg}" of field "{sel.parent}.{sel.name}" in selection "{sel.name}"',
                t.name,
                f.name,
            )
        target = sub.types[sel.parent].fields[sel.name]
        if sel.depth == 0 and not target.external:
            err(
                "REQUIRES_FIELDS_MISSING_EXTERNAL",
                f'@requires(fields: "{f.requires}") names field "{sel.parent}.{sel.name}", which is not '
                "marked @external in this subgraph; required fields must be @external",
                t.name,
                f.name,
            )


def _check_unsupported_on_interface(sub: Subgraph, t: TypeDef, f: FieldDef, directive: str, err: Report) -> bool:
    """Apollo's composer does not support @requires/@provides on interface fields (``*_UNSUPPORTED_ON_INTERFACE``):
    an interface field is never resolved by itself, each implementation's field is."""
    if not sub.fed2 or t.kind != "interface":
        return False
    err(
        f"{directive.upper()}_UNSUPPORTED_ON_INTERFACE",
        f'Cannot use @{directive} on field "{t.name}.{f.name}" of parent type "{t.name}": @{directive} is not yet '
        "supported within interfaces",
        t.name,
        f.name,
    )
    return True


def _check_directives_in_fields(
    directive: str, fields: str, where: str, err: Report, type_name: str, field_name: str | None = None
) -> None:
    """No directive application inside a field set (Apollo's ``*_DIRECTIVE_IN_FIELDS_ARG``)."""
    found = field_set_directives(fields)
    if found:
        err(
            f"{directive.upper()}_DIRECTIVE_IN_FIELDS_ARG",
            f'On {where}, for @{directive}(fields: "{fields}"): cannot have directive applications in the '
            f"@{directive}(fields:) argument but found {', '.join(found)}.",
            type_name,
            field_name,
        )


def _check_provides(sub: Subgraph, t: TypeDef, f: FieldDef, err: Report) -> None:
    """@provides: on fields returning a composite type, a valid field set of @external fields (Fed2)."""
    if f.provides is None:
        return
    _check_unsupported_on_interface(sub, t, f, "provides", err)
    ret = named_type(f.type)
    if sub.type_kind(ret) not in ("object", "interface", "union"):
        err(
            "PROVIDES_ON_NON_OBJECT_FIELD",
            f'@provides is used on a field of type "{f.type}", but it must return an object, '
            "interface or union (or a list of them)",
            t.name,
            f.name,
        )
        return
    _check_directives_in_fields("provides", f.provides, f'field "{t.name}.{f.name}"', err, t.name, f.name)
    found, problems = walk_field_set(sub, ret, f.provides)
    for p in problems:
        err("PROVIDES_INVALID_FIELDS", f'@provides(fields: "{f.provides}") is invalid: {p.message}', t.name, f.name)
    for sel in found:
        sub.provided_coords.add((sel.parent, sel.name))
        if sel.has_args:
            err(
                "PROVIDES_FIELDS_HAS_ARGS",
                f'On field "{t.name}.{f.name}", for @provides(fields: "{f.provides}"): field {sel.parent}.{sel.name} '
                "cannot be included because it has arguments (fields with argument are not allowed in @provides)",
                t.name,
                f.name,
            )
        target = sub.types[sel.parent].fields[sel.name]
        if sel.depth == 0 and not target.external and sub.fed2:
            err(
                "PROVIDES_FIELDS_MISSING_EXTERNAL",
                f'@provides(fields: "{f.provides}") names field "{sel.parent}.{sel.name}", which is not '
                "marked @external in this subgraph",
                t.name,
                f.name,
            )


def used_coords(sub: Subgraph) -> set[tuple[str, str]]:
    """(type, field) named by a key, @requires, @provides or @fromContext selection of the subgraph."""
    return sub.key_field_coords | sub.required_coords | sub.provided_coords | context_coords(sub)


def field_used(sub: Subgraph, t: TypeDef, fname: str, used: set[tuple[str, str]]) -> bool:
    """Apollo's "used" field: in ``used`` (see :func:`used_coords`) or implementing a field of an interface ``t``
    implements in this subgraph. An external field must be used; an overridden one that is used stays in the
    supergraph (``usedOverridden``)."""
    return (t.name, fname) in used or any(fname in sub.types[i].fields for i in t.interfaces if i in sub.types)


def _check_external(sub: Subgraph, t: TypeDef, f: FieldDef, used: bool, err: Report) -> None:
    """@external: not on interfaces, and used by a key, requires, provides or an interface."""
    if not f.external:
        return
    if t.kind == "interface":
        err("EXTERNAL_ON_INTERFACE", "@external is not allowed on interface fields", t.name, f.name)
    if used:
        return
    if sub.fed2:
        err(
            "EXTERNAL_UNUSED",
            "field is marked @external but is not used by any @key, @requires or @provides "
            "(nor to satisfy an interface); remove it or use it",
            t.name,
            f.name,
        )
    else:
        del t.fields[f.name]  # Fed1 allowed unused externals; the Fed2 upgrade drops them


def _check_override(sub: Subgraph, t: TypeDef, f: FieldDef, err: Report) -> None:
    """@override: not on interfaces, not from itself, not with @external, a well-formed label."""
    if f.override is None:
        return
    if t.kind == "interface":
        err("OVERRIDE_ON_INTERFACE", "@override cannot be used on interface fields", t.name, f.name)
    if f.override_label is not None and sub.fed_version < (2, 7):
        err(
            "INVALID_GRAPHQL",
            'Unknown argument "label" on directive "@override" (federation v2.7 and later)',
            t.name,
            f.name,
        )
    if t.interface_object:  # as Apollo's composer: not supported there (yet)
        err(
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            "@override is not yet supported on fields of @interfaceObject types",
            t.name,
            f.name,
        )
    if f.override == sub.name:
        err(
            "OVERRIDE_FROM_SELF_ERROR",
            f'@override(from: "{f.override}") names this same subgraph; a field can only be taken '
            "over from another subgraph",
            t.name,
            f.name,
        )
    if f.external:
        err(
            "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
            "@override cannot be used on a field that is also marked @external",
            t.name,
            f.name,
        )
    if f.override_label is not None and not _LABEL.match(f.override_label):
        err(
            "OVERRIDE_LABEL_INVALID",
            f'@override label "{f.override_label}" must be "percent(0-100)" or an identifier',
            t.name,
            f.name,
        )
