"""The client-facing API schema (docs/router.md §2 The API schema).

Removes the linked specs' definitions and applications (``join__*``, ``link``, ``core``,
``inaccessible``, ``tag``, …) and every element marked ``@inaccessible``; keeps
``@deprecated``/``@specifiedBy``/``@oneOf`` and custom directives. Built with graphql-core so
validation and introspection work unchanged.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLDeferDirective,
    GraphQLError,
    GraphQLSchema,
    NamedTypeNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
)

from router.errors import SupergraphError

from .links import FeatureTable

__all__ = ["build_api_schema"]


class _Filter:
    def __init__(self, features: FeatureTable) -> None:
        self.features = features
        inacc = features.get("inaccessible")
        self.inaccessible = inacc.directive("inaccessible") if inacc else None
        self.spec_directives = features.spec_directive_names()

    def is_spec_directive(self, name: str) -> bool:
        return name in self.spec_directives or self.features.is_spec_name(name)

    def hidden(self, node: Any) -> bool:
        return self.inaccessible is not None and any(d.name.value == self.inaccessible for d in node.directives or ())

    def strip(self, node: Any) -> Any:
        """Copy of ``node`` without spec directive applications."""
        if not node.directives:
            return node
        kept = tuple(d for d in node.directives if not self.is_spec_directive(d.name.value))
        if len(kept) == len(node.directives):
            return node
        return dataclasses.replace(node, directives=kept)


def build_api_schema(document: DocumentNode, features: FeatureTable) -> GraphQLSchema:
    f = _Filter(features)
    removed_types: set[str] = set()
    for node in document.definitions:
        if isinstance(node, (TypeDefinitionNode, TypeExtensionNode)):
            name = node.name.value
            if f.features.is_spec_name(name) or f.hidden(node):
                removed_types.add(name)
    defs: list[Any] = []
    for node in document.definitions:
        if isinstance(node, SchemaDefinitionNode):
            defs.append(dataclasses.replace(node, directives=()))
        elif isinstance(node, DirectiveDefinitionNode):
            if not f.is_spec_directive(node.name.value):
                defs.append(node)
        elif isinstance(node, (TypeDefinitionNode, TypeExtensionNode)) and node.name.value not in removed_types:
            defs.append(_visible_type(f, node, removed_types))
    doc = DocumentNode(definitions=tuple(defs))
    try:
        return _with_defer(build_ast_schema(doc))
    except (GraphQLError, TypeError) as exc:
        raise SupergraphError(f"Cannot build the API schema: {exc}") from None


def _with_defer(schema: GraphQLSchema) -> GraphQLSchema:
    """The router serves ``@defer``, so clients see its definition, as Apollo Router's API schema shows it
    (docs/router.md §10 @defer and incremental delivery); a supergraph defining its own keeps that one."""
    if schema.get_directive("defer") is not None:
        return schema
    kwargs = schema.to_kwargs()
    kwargs["directives"] = (*kwargs["directives"], GraphQLDeferDirective)
    return GraphQLSchema(**kwargs)


def _visible_type(f: _Filter, node: Any, removed_types: set[str]) -> Any:
    """``node`` without hidden fields, arguments, values, members and implementations, and
    without linked-spec directive applications."""
    changes: dict[str, Any] = {}
    if getattr(node, "fields", None) is not None:
        changes["fields"] = tuple(
            _visible_field(f, fld, removed_types)
            for fld in node.fields or ()
            if not f.hidden(fld) and _type_name(fld.type) not in removed_types
        )
    if getattr(node, "interfaces", None):
        changes["interfaces"] = tuple(i for i in node.interfaces if i.name.value not in removed_types)
    if getattr(node, "types", None):
        changes["types"] = tuple(t for t in node.types if t.name.value not in removed_types)
    if getattr(node, "values", None):
        changes["values"] = tuple(f.strip(v) for v in node.values if not f.hidden(v))
    stripped = f.strip(node)
    return dataclasses.replace(stripped, **changes) if changes else stripped


def _visible_field(f: _Filter, fld: Any, removed_types: set[str]) -> Any:
    fld = f.strip(fld)
    if getattr(fld, "arguments", None):
        args = tuple(f.strip(a) for a in fld.arguments if not f.hidden(a) and _type_name(a.type) not in removed_types)
        fld = dataclasses.replace(fld, arguments=args)
    return fld


def _type_name(t: Any) -> str:
    while not isinstance(t, NamedTypeNode):
        t = t.type
    return t.name.value
