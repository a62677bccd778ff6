"""Read one subgraph's SDL into the typed `Subgraph` model (docs/router.md §5.1 Pipeline).

Understands Federation 2 (`@link(url: ".../federation/v2.x", import: [...])`, `import` renames with `as`,
and the `federation__` prefix for names not imported) and Federation 1 (bare `@key`, `extend type`,
`@extends`). Root types are renamed to Query/Mutation/Subscription, and the federation plumbing
(`_service`, `_entities`, `_Any`, `_Entity`, `_Service`, directive definitions) is dropped.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLSyntaxError, parse, print_ast
from graphql.language import (
    BooleanValueNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    TypeDefinitionNode,
    TypeExtensionNode,
)

from router.supergraph.access import Access
from router.supergraph.loader import TYPE_KINDS

from .contexts import read_from_context
from .demand import read_cost, read_list_size
from .diagnostics import CompositionError
from .directive_names import unknown_directive_errors
from .directive_usage import directive_usage_errors
from .fieldset_rules import parse_field_set
from .links import FEDERATION_ELEMENTS, link_errors
from .subgraph_model import (
    Argument,
    EnumValue,
    FieldDef,
    Key,
    Subgraph,
    SubgraphSource,
    TypeDef,
)

__all__ = ["FEDERATION_DIRECTIVES", "read_subgraph"]

FEDERATION_DIRECTIVES = frozenset(
    {
        "key",
        "external",
        "requires",
        "provides",
        "extends",
        "shareable",
        "inaccessible",
        "tag",
        "override",
        "interfaceObject",
        "composeDirective",
        "authenticated",
        "requiresScopes",
        "policy",
        "context",
        "fromContext",
        "cost",
        "listSize",
    }
)
# The federation version that brought each directive (Apollo's composer does not know it on an older @link).
_SINCE: dict[str, tuple[int, int]] = {n[1:]: v for n, v in FEDERATION_ELEMENTS.items() if n.startswith("@")}
_FED1_DIRECTIVES = frozenset({"key", "external", "requires", "provides", "extends", "tag", "inaccessible", "shareable"})
_FED_URL = re.compile(r"^https?://specs\.apollo\.dev/federation/v(\d+)\.(\d+)/?$")
_PLUMBING_TYPES = frozenset({"_Service", "_Any", "_Entity", "_FieldSet", "FieldSet"})
_PLUMBING_FIELDS = frozenset({"_service", "_entities"})
_ROOT_NAMES = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}


class _Names:
    """Maps directive names as written in this subgraph to canonical federation names."""

    def __init__(self, fed2: bool, imports: dict[str, str], prefix: str, version: tuple[int, int] = (1, 0)) -> None:
        self.fed2 = fed2
        self.imports = imports
        self.prefix = prefix
        self.version = version

    def canonical(self, name: str) -> str | None:
        if not self.fed2:
            return name if name in _FED1_DIRECTIVES else None
        if name in self.imports:
            return self.imports[name]
        head = self.prefix + "__"
        canon = name[len(head) :]
        if name.startswith(head) and canon in FEDERATION_DIRECTIVES and _SINCE.get(canon, (2, 0)) <= self.version:
            return canon
        return None


def _value(node: Any) -> Any:
    if isinstance(node, StringValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    if isinstance(node, ListValueNode):
        return [_value(v) for v in node.values]
    if isinstance(node, ObjectValueNode):
        return {f.name.value: _value(f.value) for f in node.fields}
    return getattr(node, "value", None)


def _args(d: DirectiveNode) -> dict[str, Any]:
    return {a.name.value: _value(a.value) for a in d.arguments or ()}


def _read_links(
    doc: DocumentNode, subgraph: str
) -> tuple[_Names, dict[str, tuple[str, str | None, str | None]], list[CompositionError], list[CompositionError]]:
    """Find the federation @link; returns the name mapping, @composeDirective entries, errors, and the errors of
    misused directive applications (those stop the subgraph, as in Apollo's composer)."""
    imports: dict[str, str] = {}
    type_imports: dict[str, str] = {}
    prefix = "federation"
    fed2 = False
    version = (1, 0)
    other_links: list[dict[str, Any]] = []
    for d in _schema_directives(doc):
        if d.name.value != "link":
            continue
        args = _args(d)
        url = _FED_URL.match(str(args.get("url") or ""))
        if not url:
            other_links.append(args)
            continue
        fed2 = True
        version = max(version, (int(url.group(1)), int(url.group(2))))
        prefix = str(args.get("as") or "federation")
        imports.update(_federation_imports(args))
        type_imports.update(_federation_imports(args, types=True))
    known = {n for n in FEDERATION_DIRECTIVES if _SINCE.get(n, (2, 0)) <= version} if fed2 else FEDERATION_DIRECTIVES
    unknown = unknown_directive_errors(
        doc, subgraph, fed2=fed2, federation_names=set(known), federation_imports=dict(imports)
    )
    names = _Names(fed2, imports, prefix, version)
    local_types = {canon: alias for alias, canon in type_imports.items()}
    misused = directive_usage_errors(
        doc,
        subgraph,
        canonical=names.canonical,
        fed2=fed2,
        version=version,
        federation_type=lambda t: local_types.get(t, f"{prefix}__{t}") if fed2 else f"_{t}",
    )
    composed, errors = _composed_directives(doc, names, other_links, subgraph)
    return names, composed, errors + unknown, misused


def _schema_directives(doc: DocumentNode) -> list[DirectiveNode]:
    return [
        d
        for definition in doc.definitions
        if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode))
        for d in definition.directives or ()
    ]


def _federation_imports(link: dict[str, Any], types: bool = False) -> dict[str, str]:
    """The federation directives (or, with `types`, types) a @link imports: local name -> federation name."""
    imports: dict[str, str] = {}
    for item in link.get("import") or ():
        if isinstance(item, str):
            name, alias = item, item
        elif isinstance(item, dict):
            name, alias = str(item.get("name", "")), str(item.get("as") or item.get("name", ""))
        else:
            continue
        if types and not name.startswith("@"):
            imports[alias] = name
        elif not types and name.startswith("@") and name[1:] in FEDERATION_DIRECTIVES:
            imports[alias.lstrip("@")] = name[1:]
    return imports


def _composed_directives(
    doc: DocumentNode, names: _Names, other_links: list[dict[str, Any]], subgraph: str
) -> tuple[dict[str, tuple[str, str | None, str | None]], list[CompositionError]]:
    """@composeDirective entries: name -> (definition, the @link url and import that brought it)."""
    composed: dict[str, tuple[str, str | None, str | None]] = {}
    errors: list[CompositionError] = []
    definitions = {d.name.value: d for d in doc.definitions if isinstance(d, DirectiveDefinitionNode)}
    for d in _schema_directives(doc):
        if names.canonical(d.name.value) != "composeDirective":
            continue
        name = str(_args(d).get("name", "")).lstrip("@")
        ddef = definitions.get(name)
        if ddef is None:
            errors.append(
                CompositionError(
                    "DIRECTIVE_COMPOSITION_ERROR",
                    f'@composeDirective(name: "@{name}") names a directive that is not defined',
                    subgraph,
                )
            )
            continue
        url, imported = None, None
        for link in other_links:
            for item in link.get("import") or ():
                item_name = item if isinstance(item, str) else str(item.get("as") or item.get("name"))
                if item_name.lstrip("@") == name:
                    url = str(link.get("url"))
                    imported = item if isinstance(item, str) else str(item.get("name"))
        composed[name] = (print_ast(ddef), url, imported)
    return composed, errors


def _deprecation(directives: Any) -> str | None:
    for d in directives or ():
        if d.name.value == "deprecated":
            return str(_args(d).get("reason") or "No longer supported")
    return None


def _applied(sub: Subgraph, directives: Any) -> list[str]:
    """Printed applications of @composeDirective directives (kept in the supergraph)."""
    return [print_ast(d) for d in directives or () if d.name.value in sub.compose_directives]


def _fed(names: _Names, directives: Any) -> list[tuple[str, dict[str, Any], DirectiveNode]]:
    out = []
    for d in directives or ():
        canon = names.canonical(d.name.value)
        if canon:
            out.append((canon, _args(d), d))
    return out


def read_subgraph(source: SubgraphSource) -> tuple[Subgraph | None, list[CompositionError]]:
    """Parse and normalise one subgraph. Returns `(None, errors)` when the SDL cannot be read at all."""
    try:
        doc = parse(source.sdl, no_location=True)
    except GraphQLSyntaxError as exc:
        return None, [CompositionError("INVALID_GRAPHQL", f'subgraph "{source.name}": {exc.message}', source.name)]
    bad_links = link_errors(doc, source.name)
    if bad_links:  # Apollo's composer cannot build such a subgraph: nothing else of it is reported
        return None, bad_links
    names, composed, errors, misused = _read_links(doc, source.name)
    if misused:  # not a valid GraphQL schema: Apollo's composer stops there
        return None, errors + misused
    if names.fed2:
        errors += _field_set_type_errors(doc, names, source.name)
    sub = Subgraph(
        name=source.name, url=source.url, fed2=names.fed2, compose_directives=composed, fed_version=names.version
    )
    grouped: dict[str, list[TypeDefinitionNode | TypeExtensionNode]] = {}
    for definition in doc.definitions:
        # federation/link directive definitions are implied; custom ones only matter for @composeDirective
        if isinstance(definition, (TypeDefinitionNode, TypeExtensionNode)):
            grouped.setdefault(definition.name.value, []).append(definition)
    roots = _root_types(doc, grouped, source.name, errors)
    rename = {old: _ROOT_NAMES[op] for op, old in roots.items()}
    sub.roots = {op: _ROOT_NAMES[op] for op in roots}
    for name, nodes in grouped.items():
        if name in _PLUMBING_TYPES or name.startswith(("link__", "federation__", names.prefix + "__")):
            continue
        kinds = {TYPE_KINDS[type(n)] for n in nodes}
        if len(kinds) > 1:
            errors.append(
                CompositionError(
                    "INVALID_GRAPHQL",
                    f'subgraph "{source.name}": type "{name}" is declared with several kinds',
                    source.name,
                    name,
                )
            )
            continue
        kind = kinds.pop()
        if kind != "object" and names.fed2 and _type_external(nodes, names):
            errors.append(
                CompositionError(
                    "INVALID_GRAPHQL",
                    f'[{source.name}] Directive "@external" may not be used on {kind.upper()} ("{name}")',
                    source.name,
                    name,
                )
            )
        tdef = _read_type(rename.get(name, name), kind, nodes, names, rename, sub)
        sub.types[tdef.name] = tdef
    if "Query" not in sub.types:
        sub.types["Query"] = TypeDef("Query", "object")
    sub.roots.setdefault("query", "Query")
    query = sub.types["Query"]
    for plumbing in _PLUMBING_FIELDS:
        query.fields.pop(plumbing, None)
    return sub, errors


def _root_types(
    doc: DocumentNode, grouped: dict[str, Any], subgraph: str, errors: list[CompositionError]
) -> dict[str, str]:
    """operation -> the subgraph's root type name (from the schema definition, else the default
    name); a root named otherwise while another type uses the default name is an error."""
    roots: dict[str, str] = {}
    for definition in doc.definitions:
        if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode)):
            for op_type in definition.operation_types or ():
                roots[op_type.operation.value] = op_type.type.name.value
    for op, default in _ROOT_NAMES.items():
        if op not in roots and default in grouped:
            roots[op] = default
    for op, old in roots.items():
        new = _ROOT_NAMES[op]
        if old != new and new in grouped:
            errors.append(
                CompositionError(
                    f"ROOT_{op.upper()}_USED",
                    f'subgraph "{subgraph}": type "{new}" is used, but the {op} root type is "{old}"; '
                    f'the {op} root must be named "{new}" or no other type may use that name',
                    subgraph,
                    new,
                )
            )
    return roots


def _read_type(
    name: str,
    kind: str,
    nodes: list[Any],
    names: _Names,
    rename: dict[str, str],
    sub: Subgraph,
) -> TypeDef:
    """One type from its definition and extensions, in document order."""
    has_extends = any(c == "extends" for n in nodes for c, _, _ in _fed(names, n.directives))
    tdef = TypeDef(
        name=name,
        kind=kind,
        definition=any(isinstance(n, TypeDefinitionNode) for n in nodes),
        extension=any(isinstance(n, TypeExtensionNode) for n in nodes),
        extends=has_extends,
    )
    ext_keys: list[str] = []
    for node in nodes:
        is_ext = isinstance(node, TypeExtensionNode) or has_extends
        if getattr(node, "description", None) is not None and tdef.description is None:
            tdef.description = node.description.value
        _read_type_directives(tdef, node, names, is_ext, ext_keys)
        tdef.applied += [a for a in _applied(sub, node.directives) if a not in tdef.applied]
        _read_members(tdef, node, rename)
        if kind == "enum":
            for value in getattr(node, "values", None) or ():
                ev = _read_enum_value(value, names, sub)
                tdef.values[ev.name] = ev
        # A type's @shareable covers the fields of that definition or extension only, as in Apollo's composer.
        node_shareable = kind == "object" and any(c == "shareable" for c, _, _ in _fed(names, node.directives))
        for fnode in getattr(node, "fields", None) or ():
            f = _read_field(fnode, names, rename, node_shareable, sub)
            if f.name not in tdef.fields:
                tdef.fields[f.name] = f
    if not sub.fed2:
        # Fed1 had no @shareable: every field may be resolved by several graphs.
        for f in tdef.fields.values():
            f.shareable = True
    elif kind == "object" and _type_external(nodes, names):
        # Fed2 @external on an object type (definition or extension) makes every field of the type external.
        for f in tdef.fields.values():
            f.external = True
    _resolvable_extension_keys(tdef, ext_keys)
    return tdef


def _type_external(nodes: list[Any], names: _Names) -> bool:
    return any(c == "external" for n in nodes for c, _, _ in _fed(names, n.directives))


def _read_type_directives(tdef: TypeDef, node: Any, names: _Names, is_ext: bool, ext_keys: list[str]) -> None:
    """@key, @shareable, @inaccessible, @tag, @interfaceObject and @specifiedBy on a type node."""
    for canon, args, d in _fed(names, node.directives):
        if canon == "key":
            fields = _field_set(d, names.fed2)
            if fields is None:
                continue
            key = Key(fields, bool(args.get("resolvable", True)), is_ext)
            tdef.keys.append(key)
            if is_ext:
                ext_keys.append(key.fields)
        elif canon == "shareable":
            tdef.shareable = True
        elif canon == "inaccessible":
            tdef.inaccessible = True
        elif canon == "tag":
            tdef.tags.append(str(args.get("name")))
        elif canon == "interfaceObject":
            tdef.interface_object = True
        elif canon in _ACCESS_DIRECTIVES:
            tdef.access = _access(canon, args).both(tdef.access)
        elif canon == "cost":
            tdef.cost = read_cost(args)
        elif canon == "context":
            tdef.contexts.append(str(args.get("name", "")))
    for d in node.directives or ():
        if d.name.value == "specifiedBy":
            tdef.specified_by = str(_args(d).get("url"))


_ACCESS_DIRECTIVES = frozenset({"authenticated", "requiresScopes", "policy"})


def _access(canon: str, args: dict[str, Any]) -> Access:
    """One authorization directive as an :class:`Access` (docs/router.md §8 Authorization)."""
    if canon == "authenticated":
        return Access(authenticated=True)
    raw = args.get("scopes" if canon == "requiresScopes" else "policies")
    groups = [[str(x) for x in g] if isinstance(g, list) else [str(g)] for g in raw or ()]
    return Access.of(scopes=groups) if canon == "requiresScopes" else Access.of(policies=groups)


def _read_members(tdef: TypeDef, node: Any, rename: dict[str, str]) -> None:
    """Implemented interfaces and, for a union, its members (root types renamed)."""
    for iface in getattr(node, "interfaces", None) or ():
        if iface.name.value not in tdef.interfaces:
            tdef.interfaces.append(rename.get(iface.name.value, iface.name.value))
    if tdef.kind != "union":
        return
    for member in getattr(node, "types", None) or ():
        if member.name.value not in tdef.members:
            tdef.members.append(rename.get(member.name.value, member.name.value))


def _read_enum_value(value: Any, names: _Names, sub: Subgraph) -> EnumValue:
    ev = EnumValue(
        value.name.value, value.description.value if value.description else None, _deprecation(value.directives)
    )
    for canon, args, _ in _fed(names, value.directives):
        if canon == "inaccessible":
            ev.inaccessible = True
        elif canon == "tag":
            ev.tags.append(str(args.get("name")))
    ev.applied = _applied(sub, value.directives)
    return ev


def _resolvable_extension_keys(tdef: TypeDef, ext_keys: list[str]) -> None:
    """Key fields of a key declared on an extension are resolvable here even when marked
    @external (the Federation 1 rule)."""
    for fields in ext_keys:
        try:
            top = [s.name.value for s in parse_field_set(fields).selections if hasattr(s, "name")]
        except GraphQLSyntaxError:
            continue
        for fname in top:
            f = tdef.fields.get(fname)
            if f is not None:
                f.external = False


def _read_field(node: Any, names: _Names, rename: dict[str, str], type_shareable: bool, sub: Subgraph) -> FieldDef:
    type_str = print_ast(node.type)
    base = type_str.strip("[]!")
    if base in rename:
        type_str = type_str.replace(base, rename[base])
    f = FieldDef(
        name=node.name.value,
        type=type_str,
        description=node.description.value if node.description else None,
        deprecated=_deprecation(node.directives),
        default=getattr(node, "default_value", None),
        shareable=type_shareable,
        applied=_applied(sub, node.directives),
    )
    _read_field_directives(f, names, node.directives)
    f.merged_directives = [
        print_ast(d)
        for d in node.directives or ()
        if names.canonical(d.name.value) in ("tag", "inaccessible")
        or d.name.value == "deprecated"
        or d.name.value in sub.compose_directives
    ]
    for anode in getattr(node, "arguments", None) or ():
        a_type = print_ast(anode.type)
        arg = Argument(
            anode.name.value,
            a_type,
            anode.default_value,
            anode.description.value if anode.description else None,
            _deprecation(anode.directives),
        )
        for canon, args, _ in _fed(names, anode.directives):
            if canon == "inaccessible":
                arg.inaccessible = True
            elif canon == "tag":
                arg.tags.append(str(args.get("name")))
            elif canon == "cost":
                arg.cost = read_cost(args)
            elif canon == "fromContext":
                arg.from_context = str(args.get("field", ""))
        arg.applied = _applied(sub, anode.directives)
        if arg.from_context is None:
            f.args[arg.name] = arg
            continue
        if anode.default_value is not None:
            f.context_defaults.append(arg.name)
        ca = read_from_context(arg.name, a_type, arg.from_context)
        if ca is None:
            f.bad_context_args.append(arg.name)
        else:  # filled by the router: not an argument of the supergraph field
            f.context_args.append(ca)
    return f


_FIELD_SET_DIRECTIVES = {"key": "KEY", "requires": "REQUIRES", "provides": "PROVIDES"}


def _field_set(node: DirectiveNode, fed2: bool) -> str | None:
    """The ``fields:`` of @key/@requires/@provides. Federation 1 also took a list of strings or a bare name, which
    Apollo's schema upgrader turns into a string; in Federation 2 anything but a string is refused (None here,
    reported by :func:`_field_set_type_errors`)."""
    value = next((a.value for a in node.arguments or () if a.name.value == "fields"), None)
    if value is None:
        return ""
    if isinstance(value, StringValueNode):
        return value.value
    if fed2:
        return None
    if isinstance(value, ListValueNode):
        return " ".join(str(_value(v)) for v in value.values)
    return str(_value(value))


def _field_set_type_errors(doc: DocumentNode, names: _Names, subgraph: str) -> list[CompositionError]:
    """Fed2 ``@key(fields: 3)`` and the like: ``*_INVALID_FIELDS_TYPE`` in Apollo's wording."""
    errors: list[CompositionError] = []
    for definition in doc.definitions:
        if not isinstance(definition, (TypeDefinitionNode, TypeExtensionNode)):
            continue
        type_name = definition.name.value
        places = [(f'type "{type_name}"', definition.directives or (), None)]
        places += [
            (f'field "{type_name}.{f.name.value}"', f.directives or (), f.name.value)
            for f in getattr(definition, "fields", None) or ()
        ]
        for where, directives, field_name in places:
            for canon, _, d in _fed(names, directives):
                if canon in _FIELD_SET_DIRECTIVES and _field_set(d, True) is None:
                    errors.append(
                        CompositionError(
                            f"{_FIELD_SET_DIRECTIVES[canon]}_INVALID_FIELDS_TYPE",
                            f'[{subgraph}] On {where}, for {print_ast(d)}: Invalid value for argument "fields": '
                            "must be a string.",
                            subgraph,
                            type_name,
                            field_name,
                        )
                    )
    return errors


def _read_field_directives(f: FieldDef, names: _Names, directives: Any) -> None:
    """The federation directives applied to one field."""
    for canon, args, d in _fed(names, directives):
        if canon == "external":
            f.external = True
        elif canon == "requires":
            f.requires = _field_set(d, names.fed2)
        elif canon == "provides":
            f.provides = _field_set(d, names.fed2)
        elif canon == "shareable":
            f.shareable = True
        elif canon == "inaccessible":
            f.inaccessible = True
        elif canon == "tag":
            f.tags.append(str(args.get("name")))
        elif canon == "override":
            f.override = str(args.get("from", ""))
            label = args.get("label")
            f.override_label = str(label) if label is not None else None
        elif canon in _ACCESS_DIRECTIVES:
            f.access = _access(canon, args).both(f.access)
        elif canon == "cost":
            f.cost = read_cost(args)
        elif canon == "listSize":
            f.list_size = read_list_size(args)
