"""Stage 2, validate: choose the operation, check the limits, then graphql-core's rules.

All on the document the parse stage produced, in this order:

1. pick the operation the request names (or the only one);
2. the limit rules (:mod:`router.stages.limits`) on that operation; a breach stops here, before
   graphql-core's rules, some of which are quadratic in the number of same-named fields;
3. graphql-core's specified rules against the API schema, stopped after
   ``max_validation_errors`` errors (the validation budget);
4. the router's own refusals: unknown or ambiguous operation, and introspection when it is turned
   off. (A subscription is refused later, by the gateway, unless it came over a streaming transport.)

The outcome (a :class:`PreparedOperation` or the refusal) is cached per (query, operation name).
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
    validate,
)

from router.errors import LimitExceeded, RequestError, ValidationFailed

from .cache import LRU
from .limits import OperationLimits, limit_rules
from .parse import LONG_DOCUMENT_CHARS, DocumentParser
from .request_context import PreparedOperation

__all__ = ["OperationValidator"]


class OperationValidator:
    def __init__(
        self,
        schema: GraphQLSchema,
        parser: DocumentParser,
        *,
        limits: OperationLimits,
        introspection: bool,
        cache_size: int,
    ) -> None:
        self._schema = schema
        self._parser = parser
        self._limits = limits
        self._introspection = introspection
        self.cache: LRU[tuple[str, str | None], PreparedOperation | RequestError] = LRU(cache_size)

    def cache_characters(self) -> int:
        return sum(len(query) for query, _ in self.cache.cached_keys())

    def prepare(self, query: str, operation_name: str | None) -> PreparedOperation:
        """Parse (once) and validate; raises a :class:`RequestError` when the operation is refused."""
        self._parser.refuse_long(query)
        key = (query, operation_name)
        entry = self.cache.get(key)
        if entry is None:
            try:
                entry = self._prepare(self._parser.parse(query), operation_name)
            except RequestError as err:
                entry = err
            if not isinstance(entry, RequestError) or len(query) <= LONG_DOCUMENT_CHARS:
                self.cache.put(key, entry)  # a long refusal is not kept (an attacker's megabytes)
        if isinstance(entry, RequestError):
            raise entry.with_traceback(None)
        return entry

    def _prepare(self, document: DocumentNode, operation_name: str | None) -> PreparedOperation:
        operation = get_operation_ast(document, operation_name)
        if operation is not None:
            self._check_limits(document, operation)
        errors = validate(self._schema, document, max_errors=self._limits.max_validation_errors)
        if errors:
            raise ValidationFailed.from_graphql(errors)
        if operation is None:
            if operation_name:
                raise ValidationFailed(f"Unknown operation named '{operation_name}'.")
            raise ValidationFailed("Must provide operation name if query contains multiple operations.")
        prepared = PreparedOperation(self._schema, document, operation)
        if prepared.intro_document is not None and not self._introspection:
            raise ValidationFailed("GraphQL introspection is not allowed, but the query contained __schema or __type.")
        return prepared

    def _check_limits(self, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        rules = limit_rules(self._limits, operation)
        if rules:
            errors = validate(self._schema, document, rules)
            if errors:
                raise LimitExceeded.from_graphql(errors)
