"""The subgraph's `@link` applications, checked as Apollo's composer checks them (docs/router.md §5.2).

A bad link is refused before anything else of the subgraph is looked at (Apollo's composer cannot build the subgraph
at all): a url that is not `<identity>/<name>/vX.Y` (`INVALID_LINK_IDENTIFIER`), the same feature linked twice, a
malformed `import` entry, or an import the linked spec version does not define (`INVALID_LINK_DIRECTIVE_USAGE`:
`@interfaceObject` from federation v2.0 is "unknown" there), and a federation version Apollo's composer does not
know (`UNKNOWN_FEDERATION_LINK_VERSION`). Messages are Apollo's wording, with its "Did you mean" suggestions.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from graphql import print_ast
from graphql.language import (
    DirectiveNode,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    StringValueNode,
    ValueNode,
)
from graphql.pyutils import suggestion_list

from .diagnostics import CompositionError

__all__ = ["FEDERATION_ELEMENTS", "FEDERATION_VERSIONS", "did_you_mean", "federation_elements", "link_errors"]

FEDERATION_IDENTITY = "https://specs.apollo.dev/federation"
# The federation spec versions Apollo's composer knows (2.14 is the one the reference gateways pin).
FEDERATION_VERSIONS = frozenset((2, minor) for minor in range(15))
# Every element the federation spec defines, with the version that brought it (Apollo's FEDERATION_VERSIONS).
FEDERATION_ELEMENTS: dict[str, tuple[int, int]] = {
    "@key": (2, 0),
    "@requires": (2, 0),
    "@provides": (2, 0),
    "@external": (2, 0),
    "@tag": (2, 0),
    "@extends": (2, 0),
    "@shareable": (2, 0),
    "@inaccessible": (2, 0),
    "@override": (2, 0),
    "@composeDirective": (2, 1),
    "@interfaceObject": (2, 3),
    "@authenticated": (2, 5),
    "@requiresScopes": (2, 5),
    "@policy": (2, 6),
    "@context": (2, 8),
    "@fromContext": (2, 8),
    "@cost": (2, 9),
    "@listSize": (2, 9),
    "@cacheTag": (2, 12),
    "FieldSet": (2, 0),
    "Scope": (2, 5),
    "Policy": (2, 6),
    "ContextFieldValue": (2, 8),
}
# Other specs whose elements Apollo's composer knows (any version): imports from them are checked too.
_OTHER_SPECS: dict[str, list[str]] = {
    "https://specs.apollo.dev/link": ["@link", "Purpose", "Import"],
    "https://specs.apollo.dev/tag": ["@tag"],
    "https://specs.apollo.dev/inaccessible": ["@inaccessible"],
    "https://specs.apollo.dev/authenticated": ["@authenticated"],
    "https://specs.apollo.dev/requiresScopes": ["@requiresScopes", "Scope"],
    "https://specs.apollo.dev/policy": ["@policy", "Policy"],
    "https://specs.apollo.dev/cost": ["@cost", "@listSize"],
    "https://specs.apollo.dev/context": ["@context", "@fromContext", "ContextFieldValue"],
}
_VERSION = re.compile(r"^v(\d+)\.(\d+)$")
_IMPORT_SHAPE = (
    'values should be either strings or input object values of the form { name: "<importedElement>", as: "<alias>" }'
)


def federation_elements(version: tuple[int, int]) -> list[str]:
    """What a federation @link of this version may import, in Apollo's order."""
    return [name for name, since in FEDERATION_ELEMENTS.items() if since <= version]


def link_errors(doc: DocumentNode, subgraph: str) -> list[CompositionError]:
    """Every problem with the subgraph's @link applications, in document order."""
    errors: list[str] = []
    codes: list[str] = []

    def add(code: str, message: str) -> None:
        codes.append(code)
        errors.append(message)

    seen: set[str] = set()
    for directive in _links(doc):
        args = {a.name.value: a.value for a in directive.arguments or ()}
        url = args.get("url")
        if not isinstance(url, StringValueNode):
            continue
        parsed = _parse_url(url.value)
        if isinstance(parsed, str):
            add("INVALID_LINK_IDENTIFIER", parsed)
            continue
        if parsed is None:  # not a url: an opaque identifier
            continue
        identity, version = parsed
        if identity in seen:
            add(
                "INVALID_LINK_DIRECTIVE_USAGE",
                f'Cannot link feature "{identity}" since it has already been linked in the schema.',
            )
            continue
        seen.add(identity)
        known: list[str] | None = _OTHER_SPECS.get(identity)
        if identity == FEDERATION_IDENTITY:
            if version not in FEDERATION_VERSIONS:
                add(
                    "UNKNOWN_FEDERATION_LINK_VERSION",
                    f"Invalid version v{version[0]}.{version[1]} for the federation feature in @link directive on "
                    "schema",
                )
                continue
            known = federation_elements(version)
        imports = args.get("import")
        if isinstance(imports, ListValueNode):
            for message in _import_errors(imports.values, known):
                add("INVALID_LINK_DIRECTIVE_USAGE", message)
    return [CompositionError(code, f"[{subgraph}] {msg}", subgraph) for code, msg in zip(codes, errors, strict=True)]


def _links(doc: DocumentNode) -> list[DirectiveNode]:
    return [
        d
        for definition in doc.definitions
        if isinstance(definition, (SchemaDefinitionNode, SchemaExtensionNode))
        for d in definition.directives or ()
        if d.name.value == "link"
    ]


def _parse_url(raw: str) -> tuple[str, tuple[int, int]] | str | None:
    """`(identity, version)`, an error message, or None for something that is not a url at all."""
    parts = urlsplit(raw)
    if not parts.scheme or not parts.netloc:
        return None
    if parts.path in ("", "/"):
        return f"Missing path in feature url '{raw if parts.path else raw + '/'}'"
    path = parts.path.split("/")
    version_text = path.pop()
    if not version_text:
        return f"Missing version component in feature url '{raw}'"
    match = _VERSION.match(version_text)
    if not match:
        return f"Expected a version string (of the form v1.2), got {version_text}"
    if not path[-1]:
        return f"Missing feature name component in feature url '{raw}'"
    return f"{parts.scheme}://{parts.netloc}{'/'.join(path)}", (int(match.group(1)), int(match.group(2)))


def _import_errors(items: tuple[ValueNode, ...], known: list[str] | None) -> list[str]:
    """Apollo's checks of each `import` entry: its shape, renames keeping the `@`, and the name being defined."""
    errors: list[str] = []
    for item in items:
        if isinstance(item, StringValueNode):
            errors += _unknown(item.value, known)
            continue
        if not isinstance(item, ObjectValueNode):
            errors.append(f"Invalid sub-value {_text(item)} for @link(import:) argument: {_IMPORT_SHAPE}.")
            continue
        fields: dict[str, str] = {}
        problem = None
        for f in item.fields:
            key = f.name.value
            if key not in ("name", "as"):
                problem = f'Unknown field "{key}" for sub-value {_text(item)} of @link(import:) argument.'
            elif not isinstance(f.value, StringValueNode):
                problem = (
                    f'Invalid value for the "{key}" field for sub-value {_text(item)} of @link(import:) argument: '
                    "must be a string."
                )
            else:
                fields[key] = f.value.value
                continue
            break
        if problem:
            errors.append(problem)
            continue
        name, alias = fields.get("name"), fields.get("as")
        if not name:
            errors.append(
                f'Invalid sub-value {_text(item)} for @link(import:) argument: missing mandatory "name" field.'
            )
            continue
        if alias and name.startswith("@") and not alias.startswith("@"):
            errors.append(
                f"Invalid @link import renaming: directive \"{name}\" imported name should start with a '@' character, "
                f'but got "{alias}".'
            )
        elif alias and not name.startswith("@") and alias.startswith("@"):
            errors.append(
                f"Invalid @link import renaming: type \"{name}\" imported name should not start with a '@' character, "
                f"but got \"{alias}\" (or, if @{name} is a directive, then it should be referred to with a '@')."
            )
        errors += _unknown(name, known)
    return errors


def _unknown(name: str, known: list[str] | None) -> list[str]:
    if known is None or name in known:
        return []
    if not name.startswith("@") and "@" + name in known:
        details = f' Did you mean directive "@{name}"?'
    else:
        details = did_you_mean(suggestion_list(name, known))
    return [f'Cannot import unknown element "{name}".{details}']


def _text(value: ValueNode) -> str:
    """A value as Apollo's messages print it: `{name: "@key", as: "k"}`, `[1, 2]`."""
    if isinstance(value, ObjectValueNode):
        return "{" + ", ".join(f"{f.name.value}: {_text(f.value)}" for f in value.fields) + "}"
    if isinstance(value, ListValueNode):
        return "[" + ", ".join(_text(v) for v in value.values) + "]"
    return print_ast(value)


def did_you_mean(suggestions: list[str]) -> str:
    """Apollo's wording: `"a"`, `"a" or "b"`, `"a", "b", or "c"` (at most 5)."""
    quoted = [f'"{s}"' for s in suggestions[:5]]
    if not quoted:
        return ""
    if len(quoted) <= 2:
        return f" Did you mean {' or '.join(quoted)}?"
    return f" Did you mean {', '.join(quoted[:-1])}, or {quoted[-1]}?"
