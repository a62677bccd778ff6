"""Print the supergraph model as a standard Federation v2 supergraph SDL (docs/router.md §5.4 Printing).

Layout: `schema` with its `@link`s, the join/link (and inaccessible/tag) directive definitions, the join
and link helper types, then every type sorted by name. Same model in, byte-identical text out.
"""

from __future__ import annotations

import json

from graphql import print_ast
from graphql.language.block_string import print_block_string

from router.supergraph.access import SPEC_URLS, Access, Groups

from .contexts import CONTEXT_DEFINITIONS, CONTEXT_LINK, CONTEXT_TYPES, print_context_arguments
from .demand import COST_DEFINITIONS, COST_LINK, print_demand
from .supergraph_model import ComposedSupergraph, MArgument, MField, MType

__all__ = ["JOIN_VERSION", "print_supergraph"]

JOIN_VERSION = "v0.5"

_JOIN_DEFINITIONS = """directive @join__directive(graphs: [join__Graph!], name: String!, args: join__DirectiveArguments) repeatable on SCHEMA | OBJECT | INTERFACE | FIELD_DEFINITION

directive @join__enumValue(graph: join__Graph!) repeatable on ENUM_VALUE

directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION

directive @join__graph(name: String!, url: String!) on ENUM_VALUE

directive @join__implements(graph: join__Graph!, interface: String!) repeatable on OBJECT | INTERFACE

directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR

directive @join__unionMember(graph: join__Graph!, member: String!) repeatable on UNION

directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA"""  # noqa: E501 - printed verbatim

_INACCESSIBLE_DEFINITION = (
    "directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM "
    "| ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION"
)
_TAG_DEFINITION = (
    "directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION "
    "| SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION | SCHEMA"
)

# The authorization specs: definitions as Apollo's composition prints them (docs/router.md §8 Authorization).
_ACCESS_DEFINITIONS = {
    "authenticated": "directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM",
    "requiresScopes": (
        "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE "
        "| SCALAR | ENUM"
    ),
    "policy": (
        "directive @policy(policies: [[policy__Policy!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM"
    ),
}
_ACCESS_TYPES = {"requiresScopes": "scalar requiresScopes__Scope", "policy": "scalar policy__Policy"}

_JOIN_TYPES = """input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}

scalar join__DirectiveArguments

scalar join__FieldSet

scalar join__FieldValue"""

_LINK_TYPES = '''scalar link__Import

enum link__Purpose {
  """
  `SECURITY` features provide metadata necessary to securely resolve fields.
  """
  SECURITY

  """
  `EXECUTION` features provide metadata necessary for operation execution.
  """
  EXECUTION
}'''


def _s(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def _description(text: str | None, indent: str) -> list[str]:
    if text is None:
        return []
    return [indent + line if line else line for line in print_block_string(text).split("\n")]


def _common(obj: MField | MArgument | MType, deprecated: str | None = None) -> list[str]:
    out = []
    if deprecated is not None:
        out.append("@deprecated" if deprecated == "No longer supported" else f"@deprecated(reason: {_s(deprecated)})")
    if obj.inaccessible:
        out.append("@inaccessible")
    out += [f"@tag(name: {_s(t)})" for t in obj.tags]
    access = getattr(obj, "access", None)
    if access is not None:
        out += _access(access)
    return out + print_demand(obj) + list(obj.applied)


def _access(access: Access) -> list[str]:
    out = ["@authenticated"] if access.authenticated else []
    if access.scopes is not None:
        out.append(f"@requiresScopes(scopes: {_groups(access.scopes)})")
    if access.policies is not None:
        out.append(f"@policy(policies: {_groups(access.policies)})")
    return out


def _groups(groups: Groups) -> str:
    return "[" + ", ".join("[" + ", ".join(_s(x) for x in g) + "]" for g in groups) + "]"


def print_supergraph(sg: ComposedSupergraph) -> str:
    enum_of = {g.name: g.enum for g in sg.graphs}
    parts: list[str] = []
    links = [
        '@link(url: "https://specs.apollo.dev/link/v1.0")',
        f'@link(url: "https://specs.apollo.dev/join/{JOIN_VERSION}", for: EXECUTION)',
    ]
    if sg.uses_inaccessible:
        links.append('@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)')
    if sg.uses_tag:
        links.append('@link(url: "https://specs.apollo.dev/tag/v0.3")')
    used_access = [spec for spec in SPEC_URLS if sg.uses_access(spec)]
    links += [f"@link(url: {_s(SPEC_URLS[spec])}, for: SECURITY)" for spec in used_access]
    if sg.uses_cost:
        links.append(COST_LINK)
    if sg.uses_context:
        links.append(CONTEXT_LINK)
    for name in sorted(sg.composed):
        _, url, imported = sg.composed[name]
        if url is not None:
            links.append(f"@link(url: {_s(url)}, import: [{_s(imported or '@' + name)}])")
    roots = "\n".join(f"  {op}: {name}" for op, name in sg.roots.items())
    parts.append("schema\n" + "\n".join("  " + link for link in links) + "\n{\n" + roots + "\n}")
    parts.append(_JOIN_DEFINITIONS)
    if sg.uses_inaccessible:
        parts.append(_INACCESSIBLE_DEFINITION)
    if sg.uses_tag:
        parts.append(_TAG_DEFINITION)
    parts += [_ACCESS_DEFINITIONS[spec] for spec in used_access]
    if sg.uses_cost:
        parts.append(COST_DEFINITIONS)
    if sg.uses_context:
        parts.append(CONTEXT_DEFINITIONS)
    for name in sorted(sg.composed):
        parts.append(sg.composed[name][0])
    parts.append(_JOIN_TYPES)
    parts.append(
        "enum join__Graph {\n"
        + "\n".join(f"  {g.enum} @join__graph(name: {_s(g.name)}, url: {_s(g.url)})" for g in sg.graphs)
        + "\n}"
    )
    parts.append(_LINK_TYPES)
    parts += [_ACCESS_TYPES[spec] for spec in used_access if spec in _ACCESS_TYPES]
    if sg.uses_context:
        parts.append(CONTEXT_TYPES)
    for name in sorted(sg.types):
        parts.append(_print_type(sg.types[name], enum_of))
    return "\n\n".join(parts) + "\n"


def _join_types(t: MType, enum_of: dict[str, str]) -> list[str]:
    out = []
    for g, src in t.sources.items():
        extra = ", isInterfaceObject: true" if src.interface_object else ""
        if not src.keys:
            out.append(f"@join__type(graph: {enum_of[g]}{extra})")
        for key in src.keys:
            args = f"graph: {enum_of[g]}, key: {_s(key.fields)}"
            if key.extension:
                args += ", extension: true"
            if not key.resolvable:
                args += ", resolvable: false"
            out.append(f"@join__type({args}{extra})")
    return out


def _block(header: str, directives: list[str], body: list[str]) -> str:
    head = header + "\n" + "\n".join("  " + d for d in directives) + "\n{" if directives else header + " {"
    return head + "\n" + "\n".join(body) + "\n}"


def _print_type(t: MType, enum_of: dict[str, str]) -> str:
    lines = _description(t.description, "")
    directives = _join_types(t, enum_of)
    if t.kind in ("object", "interface"):
        directives += [f"@join__implements(graph: {enum_of[g]}, interface: {_s(i)})" for g, i in t.implements]
    elif t.kind == "union":
        directives += [f"@join__unionMember(graph: {enum_of[g]}, member: {_s(m)})" for g, m in t.member_sources]
    directives += [f"@context(name: {_s(c)})" for c in t.contexts]
    directives += _common(t)
    if t.kind == "scalar":
        if t.specified_by:
            directives.append(f"@specifiedBy(url: {_s(t.specified_by)})")
        text = f"scalar {t.name}" + "".join("\n  " + d for d in directives)
    elif t.kind == "union":
        text = f"union {t.name}" + "".join("\n  " + d for d in directives)
        if t.members:
            text += "\n = " + " | ".join(t.members)
    elif t.kind == "enum":
        body: list[str] = []
        for v in t.values.values():
            if body and v.description:
                body.append("")
            body += _description(v.description, "  ")
            ds = [f"@join__enumValue(graph: {enum_of[g]})" for g in v.graphs]
            dep = v.deprecated
            if dep is not None:
                ds.append("@deprecated" if dep == "No longer supported" else f"@deprecated(reason: {_s(dep)})")
            if v.inaccessible:
                ds.append("@inaccessible")
            ds += [f"@tag(name: {_s(tag)})" for tag in v.tags] + list(v.applied)
            body.append(f"  {v.name}" + "".join(" " + d for d in ds))
        text = _block(f"enum {t.name}", directives, body)
    else:
        keyword = {"object": "type", "interface": "interface", "input": "input"}[t.kind]
        header = f"{keyword} {t.name}"
        if t.interfaces:
            header += " implements " + " & ".join(t.interfaces)
        body = []
        for f in t.fields.values():
            if body and f.description:
                body.append("")
            body += _description(f.description, "  ")
            body.append("  " + _print_field(t, f, enum_of))
        text = _block(header, directives, body)
    return "\n".join([*lines, text])


def _print_field(t: MType, f: MField, enum_of: dict[str, str]) -> str:
    text = f.name
    if f.args:
        args = [_print_arg(a) for a in f.args.values()]
        if any(a.description for a in f.args.values()):
            inner = []
            for a, printed in zip(f.args.values(), args, strict=True):
                inner += _description(a.description, "    ")
                inner.append("    " + printed)
            text += "(\n" + "\n".join(inner) + "\n  )"
        else:
            text += "(" + ", ".join(args) + ")"
    text += ": " + f.type
    if f.default is not None:
        text += " = " + print_ast(f.default)
    ds = _join_fields(t, f, enum_of) + _common(f, f.deprecated)
    return text + "".join(" " + d for d in ds)


def _print_arg(a: MArgument) -> str:
    text = f"{a.name}: {a.type}"
    if a.default is not None:
        text += " = " + print_ast(a.default)
    return text + "".join(" " + d for d in _common(a, a.deprecated))


def _join_fields(t: MType, f: MField, enum_of: dict[str, str]) -> list[str]:
    """`@join__field` applications, left out when every graph of the type has the field plainly."""
    if f.from_interface_object:
        return ["@join__field"]
    srcs = f.sources
    plain = set(srcs) == set(t.sources) and all(
        not (s.external or s.requires or s.provides or s.override is not None or s.overridden or s.context_args)
        and s.type == f.type
        for s in srcs.values()
    )
    if plain:
        return []
    out = []
    same_type = all(s.type == f.type for s in srcs.values())
    # A progressive override's label is printed on its source too (Apollo does): both sides depend on it.
    labelled = {s.override: s.override_label for s in srcs.values() if s.override and s.override_label}
    for g, s in srcs.items():
        if s.overridden and not s.used_overridden:
            continue
        args = [f"graph: {enum_of[g]}"]
        if s.requires is not None:
            args.append(f"requires: {_s(s.requires)}")
        if s.provides is not None:
            args.append(f"provides: {_s(s.provides)}")
        if not same_type:
            args.append(f"type: {_s(s.type)}")
        if s.external:
            args.append("external: true")
        if s.override is not None:
            args.append(f"override: {_s(s.override)}")
        if s.used_overridden:
            args.append("usedOverridden: true")
        label = s.override_label if s.override_label is not None else labelled.get(g)
        if label is not None:
            args.append(f"overrideLabel: {_s(label)}")
        if s.context_args:
            args.append(print_context_arguments(g, s.context_args))
        out.append(f"@join__field({', '.join(args)})")
    return out
