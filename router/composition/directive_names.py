"""Unknown directives in a subgraph SDL (docs/router.md §5.1 Pipeline).

Apollo's composer validates each subgraph as a GraphQL schema, so a directive that is neither built in, defined in
the SDL, nor brought in by a @link is `INVALID_GRAPHQL`. Ignoring it instead would silently drop what the author
meant: `@extends` in a Fed2 subgraph that did not import it, a federation directive used under its namespaced name
after being imported, `@shareable` in a Fed1 subgraph.
"""

from __future__ import annotations

import re
from typing import Any

from graphql.language import (
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    Visitor,
    visit,
)

from .diagnostics import CompositionError

__all__ = ["unknown_directive_errors"]

_BUILT_IN = frozenset({"deprecated", "specifiedBy", "include", "skip"})
# What a Fed1 subgraph may use without defining it (Apollo's composer refuses @shareable, @inaccessible, ... there).
_FED1_KNOWN = frozenset({"key", "external", "requires", "provides", "extends", "tag"})
_APOLLO_SPEC = re.compile(r"^https?://specs\.apollo\.dev/([A-Za-z_][A-Za-z0-9_-]*)/v\d+\.\d+/?$")


class _Collect(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.used: list[str] = []

    def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
        self.used.append(node.name.value)


def unknown_directive_errors(
    doc: DocumentNode,
    subgraph: str,
    *,
    fed2: bool,
    federation_names: set[str],
    federation_imports: dict[str, str],
) -> list[CompositionError]:
    """One `INVALID_GRAPHQL` per unknown directive name (in first-use order).

    `federation_names` are the federation directive names known at the linked version and `federation_imports`
    maps local name -> federation name for what the federation @link imports (its namespace prefix, `as`, is read
    from the links here)."""
    known = set(_BUILT_IN) | {d.name.value for d in doc.definitions if isinstance(d, DirectiveDefinitionNode)}
    hint: dict[str, str] = {}
    if fed2:
        known.add("link")
        prefix = "federation"
        for link in _links(doc):
            url = link.get("url", "")
            spec = _APOLLO_SPEC.match(url)
            if spec and spec.group(1) == "federation":
                prefix = link.get("as") or "federation"
            elif spec:  # other Apollo specs (link, tag, inaccessible, ...): the composer knows their directives
                known.update(link["imports"])
                known.add((link.get("as") or spec.group(1)) + "__*")
        known.update(federation_imports)
        imported = set(federation_imports.values())
        known.update(f"{prefix}__{n}" for n in federation_names if n not in imported)
        for alias, canon in federation_imports.items():
            if alias != canon:
                hint[canon] = f'you should use "@{alias}" as it is imported under that name in the @link'
        for n in federation_names - imported:
            hint.setdefault(n, f'you should use "@{prefix}__{n}" or add "@{n}" to the `import` of the federation @link')
    else:
        known |= _FED1_KNOWN
        for n in federation_names - _FED1_KNOWN:
            hint[n] = "note that this schema is a federation 1 schema: it needs to @link to federation v2"
    collect = _Collect()
    visit(doc, collect)
    errors: list[CompositionError] = []
    for name in dict.fromkeys(collect.used):
        if name in known or ("__" in name and name.split("__", 1)[0] + "__*" in known):
            continue
        why = f' If you meant the "@{name}" federation directive, {hint[name]}.' if name in hint else ""
        errors.append(CompositionError("INVALID_GRAPHQL", f'[{subgraph}] Unknown directive "@{name}".{why}', subgraph))
    return errors


def _links(doc: DocumentNode) -> list[dict[str, Any]]:
    """Each schema-level @link: url, as, and the local directive names it imports."""
    out = []
    for definition in doc.definitions:
        if not isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode)):
            continue
        for d in definition.directives or ():
            if d.name.value != "link":
                continue
            link: dict[str, Any] = {"url": "", "as": None, "imports": []}
            for arg in d.arguments or ():
                value = arg.value
                if arg.name.value in ("url", "as"):
                    link[arg.name.value] = getattr(value, "value", None)
                elif arg.name.value == "import":
                    for item in getattr(value, "values", ()):
                        local = getattr(item, "value", None)
                        for f in getattr(item, "fields", ()):
                            if f.name.value == "as" or (f.name.value == "name" and local is None):
                                local = getattr(f.value, "value", None)
                        if isinstance(local, str) and local.startswith("@"):
                            link["imports"].append(local[1:])
            out.append(link)
    return out
