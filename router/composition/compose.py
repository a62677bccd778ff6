"""`compose`: subgraph SDLs in, supergraph SDL (or errors) out. The one place that fixes the stage order:

read each subgraph (bad @link / misused directives stop it) -> validate it -> rules over all subgraphs
(extensions with no base, interface keys and objects) -> merge -> post-merge checks -> satisfiability -> print
(docs/router.md §5.1 Pipeline).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .contexts import validate_contexts
from .demand_rules import demand_errors
from .diagnostics import CompositionError, CompositionHint
from .extensions import extension_errors
from .interface_keys import interface_key_errors, interface_object_errors, missing_implementation_errors
from .merge import merge
from .satisfiability import check_satisfiability
from .sdl_printer import print_supergraph
from .subgraph import read_subgraph
from .subgraph_model import Subgraph, SubgraphSource
from .validate_subgraph import validate_subgraph

__all__ = ["CompositionResult", "compose"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass
class CompositionResult:
    """`supergraph_sdl` is None exactly when `errors` is not empty."""

    supergraph_sdl: str | None
    errors: list[CompositionError] = field(default_factory=list)
    hints: list[CompositionHint] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def compose(subgraphs: Sequence[SubgraphSource]) -> CompositionResult:
    """Compose subgraphs (any order; graphs are ordered by name so output is deterministic)."""
    errors: list[CompositionError] = []
    seen: set[str] = set()
    for s in subgraphs:
        if not _NAME.match(s.name) or s.name in seen:
            reason = "is used twice" if s.name in seen else "must be a letter/underscore followed by [A-Za-z0-9_-]"
            errors.append(CompositionError("INVALID_SUBGRAPH_NAME", f'subgraph name "{s.name}" {reason}', s.name))
        seen.add(s.name)
    if errors:
        return CompositionResult(None, errors)
    if not subgraphs:
        return CompositionResult(None, [CompositionError("NO_QUERIES", "no subgraphs to compose")])
    parsed: list[Subgraph] = []
    for source in sorted(subgraphs, key=lambda s: s.name):
        sub, errs = read_subgraph(source)
        errors += errs
        if sub is not None:
            errors += validate_subgraph(sub) + validate_contexts(sub) + interface_key_errors(sub) + demand_errors(sub)
            parsed.append(sub)
    if errors:
        return CompositionResult(None, errors)
    errors = (
        extension_errors(parsed) + missing_implementation_errors(parsed) + interface_object_errors(parsed)
    )  # need every subgraph read
    if errors:
        return CompositionResult(None, errors)
    supergraph, merge_errors, hints = merge(parsed)
    if merge_errors:
        return CompositionResult(None, merge_errors, hints)
    sat_errors = check_satisfiability(supergraph)
    if sat_errors:
        return CompositionResult(None, sat_errors, hints)
    return CompositionResult(print_supergraph(supergraph), [], hints)
