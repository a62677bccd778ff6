"""Operation limits, as graphql-core validation rules run on the request's one parsed document.

A rule measures the operation the request will run (fragments counted per spread, see
:mod:`._counting`) and reports a ``MAX_*_EXCEEDED`` error carrying ``limit`` and ``actual``.
The rules run before graphql-core's own rules (:mod:`router.stages.validate`): some of those are
quadratic in the number of same-named fields, so a document over the field limit must be refused
before they see it. The token limit is checked earlier still, while parsing (:mod:`.tokens`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, ValidationRule
from graphql.language import FragmentDefinitionNode, VisitorAction
from graphql.language.visitor import SKIP

from router.settings import (
    DEFAULT_MAX_ALIASES,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_FIELDS,
    DEFAULT_MAX_ROOT_FIELDS,
    DEFAULT_MAX_TOKENS,
    DEFAULT_MAX_VALIDATION_ERRORS,
)

from ._counting import Fragments
from .aliases import operation_aliases
from .depth import operation_depth
from .field_count import operation_fields
from .root_fields import operation_root_fields
from .tokens import exceeds_token_limit, is_token_limit_error

__all__ = [
    "OperationLimits",
    "exceeds_token_limit",
    "is_token_limit_error",
    "limit_rules",
    "operation_aliases",
    "operation_depth",
    "operation_fields",
    "operation_root_fields",
]


@dataclass(frozen=True, slots=True)
class OperationLimits:
    """What one operation may cost (``router.settings.LimitsSettings`` minus the body size);
    ``None`` turns a limit off. ``max_validation_errors`` stops graphql-core's validation after
    that many errors."""

    max_tokens: int | None = DEFAULT_MAX_TOKENS
    max_depth: int | None = DEFAULT_MAX_DEPTH
    max_aliases: int | None = DEFAULT_MAX_ALIASES
    max_root_fields: int | None = DEFAULT_MAX_ROOT_FIELDS
    max_fields: int | None = DEFAULT_MAX_FIELDS
    max_validation_errors: int = DEFAULT_MAX_VALIDATION_ERRORS
    #: demand control (router/stages/demand.py): refuse an operation whose estimated cost is over this
    max_cost: int | None = None
    #: the size assumed for a list field without @listSize, in the cost estimate
    list_size: int = 10


Measure = Callable[[OperationDefinitionNode, Fragments], int]

# (limit attribute, error code, what the message calls it, measure)
_MEASURES: tuple[tuple[str, str, str, Measure], ...] = (
    ("max_depth", "MAX_DEPTH_EXCEEDED", "depth", operation_depth),
    ("max_aliases", "MAX_ALIASES_EXCEEDED", "aliases", operation_aliases),
    ("max_root_fields", "MAX_ROOT_FIELDS_EXCEEDED", "root fields", operation_root_fields),
    ("max_fields", "MAX_FIELDS_EXCEEDED", "fields", operation_fields),
)


def limit_rules(limits: OperationLimits, operation: OperationDefinitionNode) -> list[type[ValidationRule]]:
    """One validation rule per active limit, measuring ``operation`` (the one the request runs;
    the others in the document are not executed, so they are not limited)."""
    rules: list[type[ValidationRule]] = []
    for attr, code, label, measure in _MEASURES:
        limit = getattr(limits, attr)
        if limit is not None:
            rules.append(_rule(operation, limit, code, label, measure))
    return rules


def _rule(
    selected: OperationDefinitionNode, limit: int, code: str, label: str, measure: Measure
) -> type[ValidationRule]:
    class LimitRule(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> VisitorAction:
            if node is selected:
                fragments = {
                    d.name.value: d for d in self.context.document.definitions if isinstance(d, FragmentDefinitionNode)
                }
                actual = measure(node, fragments)
                if actual > limit:
                    message = f"operation {label} {actual} exceeds the limit of {limit}"
                    self.report_error(
                        GraphQLError(message, extensions={"code": code, "limit": limit, "actual": actual})
                    )
            return SKIP  # the measure walked what it needs

        def enter_fragment_definition(self, *_: Any) -> VisitorAction:
            return SKIP

    LimitRule.__name__ = LimitRule.__qualname__ = f"Max{label.title().replace(' ', '')}Rule"
    return LimitRule
