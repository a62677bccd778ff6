"""The ``@link`` / ``@core`` feature table of a supergraph (docs/router.md §1.1 @link and the feature table).

A supergraph names its spec directives through the features it links: ``@link(url:
".../join/v0.3", as: "j")`` turns ``@join__type`` into ``@j__type``, ``import:`` lets an
element be used without prefix. Everything else looks names up here instead of hard-coding
``join__``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode, SchemaDefinitionNode, SchemaExtensionNode
from graphql.utilities import value_from_ast_untyped

from router.errors import SupergraphError

__all__ = ["LinkedFeature", "FeatureTable", "read_features", "SUPPORTED_FEATURES"]

#: Features whose semantics this router implements; ``for: EXECUTION|SECURITY`` on any other
#: feature makes the supergraph unloadable (as Apollo's UNSUPPORTED_LINKED_FEATURE).
SUPPORTED_FEATURES: dict[str, tuple[str, ...]] = {
    "link": ("v1.0",),
    "core": ("v0.1", "v0.2"),
    "join": ("v0.1", "v0.2", "v0.3", "v0.4", "v0.5"),
    "inaccessible": ("v0.1", "v0.2"),
    "tag": ("v0.1", "v0.2", "v0.3"),
    "authenticated": ("v0.1",),
    "requiresScopes": ("v0.1",),
    "policy": ("v0.1",),
    "cost": ("v0.1",),
    "context": ("v0.1",),
}

_URL = re.compile(r"^(?P<base>.*?)/(?P<name>[A-Za-z_][\w-]*)/(?P<version>v\d+\.\d+)/?$")


@dataclass(slots=True)
class LinkedFeature:
    url: str
    name: str
    version: str
    prefix: str
    purpose: str | None
    imports: dict[str, str] = field(default_factory=dict)  # "@tag"/"Type" -> local name

    def directive(self, element: str) -> str:
        """Local name of the feature's directive ``element`` (without ``@``)."""
        local = self.imports.get("@" + element)
        if local is not None:
            return local.lstrip("@")
        if element == self.name:
            return self.prefix
        return f"{self.prefix}__{element}"

    def type_name(self, element: str) -> str:
        return self.imports.get(element) or f"{self.prefix}__{element}"


@dataclass(slots=True)
class FeatureTable:
    features: dict[str, LinkedFeature]

    def get(self, name: str) -> LinkedFeature | None:
        return self.features.get(name)

    def spec_directive_names(self) -> set[str]:
        """Every directive name that belongs to a linked spec (removed from the API schema)."""
        names: set[str] = set()
        for feat in self.features.values():
            names.add(feat.prefix)
            for local in feat.imports.values():
                if local.startswith("@"):
                    names.add(local[1:])
        return names

    def is_spec_name(self, name: str) -> bool:
        for feat in self.features.values():
            if name.startswith(feat.prefix + "__") or name == feat.prefix:
                return True
            if name in feat.imports.values() or ("@" + name) in feat.imports.values():
                return True
        return False


def _parse_url(url: str) -> tuple[str, str]:
    m = _URL.match(url)
    if not m:
        raise SupergraphError(f"Cannot parse feature URL {url!r} in @link/@core")
    return m.group("name"), m.group("version")


def _linked_feature(dname: str, args: dict[str, Any]) -> LinkedFeature:
    """One ``@link``: refused when it is a version we do not implement, or a feature we do not
    implement linked ``for: EXECUTION``/``SECURITY`` (docs/router.md §1.1 @link and the feature table)."""
    url = args.get("url") or args.get("feature")
    if not isinstance(url, str):
        raise SupergraphError(f"@{dname} without a url")
    name, version = _parse_url(url)
    prefix = args.get("as") or name
    purpose = args.get("for")
    imports: dict[str, str] = {}
    for imp in args.get("import") or ():
        if isinstance(imp, str):
            imports[imp] = imp
        elif isinstance(imp, dict) and isinstance(imp.get("name"), str):
            imports[imp["name"]] = imp.get("as") or imp["name"]
    if name in SUPPORTED_FEATURES:
        if version not in SUPPORTED_FEATURES[name]:
            raise SupergraphError(
                f"Unsupported version {version} of feature {name} ({url}); supported: "
                + ", ".join(SUPPORTED_FEATURES[name]),
                "UNSUPPORTED_LINKED_FEATURE",
            )
    elif purpose in ("EXECUTION", "SECURITY"):
        raise SupergraphError(
            f"Feature {url} is linked for: {purpose}, but this router does not implement it; "
            "refusing to load the supergraph",
            "UNSUPPORTED_LINKED_FEATURE",
        )
    return LinkedFeature(url, name, version, prefix, purpose, imports)


def read_features(document: DocumentNode) -> FeatureTable:
    """Collect the ``@link``/``@core`` applications on the schema definition(s)."""
    schema_nodes = [d for d in document.definitions if isinstance(d, (SchemaDefinitionNode, SchemaExtensionNode))]
    raw: list[tuple[str, dict[str, Any]]] = []
    for node in schema_nodes:
        for d in node.directives or ():
            args = {a.name.value: value_from_ast_untyped(a.value) for a in d.arguments or ()}
            raw.append((d.name.value, args))
    # Bootstrap: the link/core spec itself is applied with its own (possibly renamed) name.
    boot_link = None
    for dname, args in raw:
        url = args.get("url") or args.get("feature")
        if (isinstance(url, str) and "/link/" in url) or (isinstance(url, str) and "/core/" in url):
            boot_link = (dname, args)
            break
    if boot_link is None:
        raise SupergraphError('Not a supergraph: the schema has no @link(url: ".../link/v1.0") or @core feature')
    link_directive = boot_link[0]
    features: dict[str, LinkedFeature] = {}
    for dname, args in raw:
        if dname == link_directive:
            feature = _linked_feature(dname, args)
            features[feature.name] = feature
    if "join" not in features:
        raise SupergraphError('Not a supergraph: no join spec is linked (@link(url: ".../join/v0.x"))')
    return FeatureTable(features)
