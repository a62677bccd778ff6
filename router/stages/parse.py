"""Stage 1, parse: the request's query text becomes a document, once.

Documents are cached by text, so a known query is never parsed again. The token limit is
checked before parsing (:mod:`router.stages.limits.tokens`) and by the parser itself.
Refusals of long documents are not cached: the cache would keep the attacker's megabytes.
"""

from __future__ import annotations

from graphql import DocumentNode, GraphQLError, parse

from router.errors import LimitExceeded, ParseFailed, RequestError, error_dict

from .cache import LRU
from .limits import exceeds_token_limit, is_token_limit_error

__all__ = ["LONG_DOCUMENT_CHARS", "DocumentParser"]

# Over this length a refusal is not cached, and the token count runs before any cache look-up
# (hashing a megabyte key costs more than counting tokens up to the limit).
LONG_DOCUMENT_CHARS = 10_000


class DocumentParser:
    def __init__(self, *, max_tokens: int | None, cache_size: int) -> None:
        self._max_tokens = max_tokens
        self.cache: LRU[str, DocumentNode | RequestError] = LRU(cache_size)

    def parse(self, query: str) -> DocumentNode:
        """The document for ``query``; raises :class:`ParseFailed` or :class:`LimitExceeded`."""
        entry = self.cache.get(query)
        if entry is None:
            entry = self._parse(query)
            if isinstance(entry, DocumentNode) or len(query) <= LONG_DOCUMENT_CHARS:
                self.cache.put(query, entry)
        if isinstance(entry, RequestError):
            raise entry.with_traceback(None)
        return entry

    def cache_characters(self) -> int:
        return sum(map(len, self.cache.cached_keys()))

    def refuse_long(self, query: str) -> None:
        """Raise the token-limit refusal for a long ``query`` with too many tokens, before any
        cache sees it (a flood of unique megabyte documents would otherwise be hashed, and kept)."""
        limit = self._max_tokens
        if limit is not None and len(query) > LONG_DOCUMENT_CHARS and exceeds_token_limit(query, limit):
            raise self._too_many_tokens(limit)

    def _parse(self, query: str) -> DocumentNode | RequestError:
        max_tokens = self._max_tokens
        if max_tokens is not None and exceeds_token_limit(query, max_tokens):
            return self._too_many_tokens(max_tokens)
        try:
            return parse(query, no_location=False, max_tokens=max_tokens)
        except GraphQLError as err:
            if max_tokens is not None and is_token_limit_error(err.message):
                return self._too_many_tokens(max_tokens)
            return ParseFailed.from_graphql([err])

    @staticmethod
    def _too_many_tokens(limit: int) -> LimitExceeded:
        message = f"document has more than {limit} tokens"
        code = "MAX_TOKENS_EXCEEDED"
        return LimitExceeded(message, code, errors=[error_dict(message, code, limit=limit)])
