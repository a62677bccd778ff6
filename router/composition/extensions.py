"""`EXTENSION_WITH_NO_BASE`: a type only ever *extended*, never defined, in the whole subgraph set
(docs/router.md §5.2).

Apollo's composer applies two rules, and so do we:

- **Federation 1** (its schema upgrader): an object or interface written `extend type T` (without a `type T` in the
  same subgraph) or `type T @extends` is a "federation type extension"; it needs a subgraph *other* than its own
  with a `type T` definition node. A `type T @extends` elsewhere counts as one (it is a definition node), so two
  `@extends` subgraphs satisfy each other while `@extends` alone, or `@extends` next to `extend type`, does not.
  The upgrade then turns such types into definitions.
- **Merge** (every subgraph, after that upgrade): a type, other than a root type, that has `extend` elements in some
  subgraph and a definition in none. In Federation 2, `@extends` is just a definition with a directive.
"""

from __future__ import annotations

from collections.abc import Sequence

from .diagnostics import CompositionError
from .subgraph_model import Subgraph, TypeDef

__all__ = ["extension_errors"]


def extension_errors(subgraphs: Sequence[Subgraph]) -> list[CompositionError]:
    """One error per subgraph that extends a type nobody defines (Fed1 upgrade rule first, then the merge rule)."""
    fed1 = [e for sub in subgraphs if not sub.fed2 for e in _fed1_errors(sub, subgraphs)]
    return fed1 or _merge_errors(subgraphs)


def _fed1_extension(sub: Subgraph, t: TypeDef) -> bool:
    """A Federation 1 'type extension' in federation's sense (roots excluded: Fed1 accepts `extend type Query`)."""
    return (
        not sub.fed2
        and t.name not in sub.roots.values()
        and t.kind in ("object", "interface")
        and (t.extension or t.extends)
        and (t.extends or not t.definition)
    )


def _fed1_errors(sub: Subgraph, subgraphs: Sequence[Subgraph]) -> list[CompositionError]:
    errors = []
    for t in sub.types.values():
        if not _fed1_extension(sub, t):
            continue
        if any(
            (other := s.types.get(t.name)) is not None and other.kind == t.kind and other.definition
            for s in subgraphs
            if s is not sub
        ):
            continue
        errors.append(_error(sub, t.name))
    return errors


def _merge_errors(subgraphs: Sequence[Subgraph]) -> list[CompositionError]:
    names = sorted({n for s in subgraphs for n in s.types})
    errors = []
    for name in names:
        owners = [(s, s.types[name]) for s in subgraphs if name in s.types]
        if any(t.kind == "object" and name in s.roots.values() for s, t in owners):
            continue
        # A Fed1 type extension was upgraded into a definition; a Fed1 root was never an extension.
        defined = any(t.definition or _fed1_extension(s, t) for s, t in owners)
        if not defined:
            errors += [_error(s, name) for s, t in owners if t.extension]
    return errors


def _error(sub: Subgraph, type_name: str) -> CompositionError:
    return CompositionError(
        "EXTENSION_WITH_NO_BASE",
        f'[{sub.name}] Type "{type_name}" is an extension type, but there is no type definition for "{type_name}" '
        "in any subgraph.",
        sub.name,
        type_name,
    )
