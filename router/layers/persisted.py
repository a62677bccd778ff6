"""Automatic persisted queries (Apollo's APQ protocol) and trusted documents (a safelist).

APQ: a client sends ``extensions.persistedQuery = {"version": 1, "sha256Hash": h}`` without the
query; if the router knows ``h`` it runs that document, else it answers
``PERSISTED_QUERY_NOT_FOUND`` and the client retries with the query, which is registered once its
SHA-256 matches ``h`` (a mismatch is refused: nobody can plant a document under another's hash).
Works over GET too (``extensions`` as a JSON URL parameter), which lets CDNs cache queries.
Registered documents live in a bounded in-process LRU per router process and, when
``ROUTER_SHARED_STORE__URL`` is set, in the shared store (for ``apq_ttl_s``), so a document
registered through one replica is found by the others; a document read back from the store is
used only if its SHA-256 is the hash asked for.

Trusted documents: a manifest of the operations our clients may send, loaded at start-up, in
either format in common use: a JSON object ``{id: document}`` (GraphQL Code Generator's
``persisted-documents.json``; ids like ``sha256:<hex>`` or ``<hex>``) or Apollo's
``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body", ...}]}``.
Manifest documents are always resolvable by id. ``safelist`` decides what happens to anything
else: ``off`` runs it, ``log`` runs it and logs it (to find what a real client sends before
enforcing), ``enforce`` refuses it (``PERSISTED_QUERY_NOT_IN_LIST`` for an unknown id,
``QUERY_NOT_IN_SAFELIST`` for free-form text). Free-form text is matched ignoring formatting,
comments and ``__typename`` selections (which client caches add), by a normalised SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from graphql import FieldNode, GraphQLError, Visitor, parse, print_ast, visit
from graphql.language import REMOVE

from router.errors import BadRequest
from router.http.context import GraphQLRequest, Handler, Layer, RouterRequest, RouterResponse
from router.shared_store import SharedStore

__all__ = [
    "PersistedDocuments",
    "SafelistMode",
    "load_manifest",
    "normalized_hash",
    "persisted_queries_layer",
]

logger = logging.getLogger("router.persisted")

SafelistMode = Literal["off", "log", "enforce"]
_APOLLO_FORMAT = "apollo-persisted-query-manifest"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _DropTypename(Visitor):
    def enter_field(self, node: FieldNode, *_args: Any) -> Any:
        if node.name.value == "__typename" and node.alias is None:
            return REMOVE
        return None


def normalized_hash(document: str) -> str | None:
    """SHA-256 of the document as printed after dropping un-aliased ``__typename``; None if it
    does not parse (such text is never in a safelist)."""
    try:
        tree = parse(document, no_location=True)
    except GraphQLError:
        return None
    return _sha256(print_ast(visit(tree, _DropTypename())))


def _id_key(identifier: str) -> str:
    return identifier.removeprefix("sha256:").lower()


def load_manifest(path: Path) -> dict[str, str]:
    """``{id: document}`` from either manifest format (ids without a ``sha256:`` prefix)."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(raw, dict) and raw.get("format") == _APOLLO_FORMAT:
        operations = raw.get("operations")
        if not isinstance(operations, list):
            raise ValueError(f"{path}: an Apollo manifest needs an 'operations' list")
        pairs = [(op.get("id"), op.get("body")) for op in operations if isinstance(op, dict)]
    elif isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        raise ValueError(f"{path}: expected a JSON object of id -> document or an Apollo manifest")
    manifest: dict[str, str] = {}
    for identifier, body in pairs:
        if not isinstance(identifier, str) or not isinstance(body, str) or not body.strip():
            raise ValueError(f"{path}: every operation needs a string id and a non-empty document")
        manifest[_id_key(identifier)] = body
    return manifest


class PersistedDocuments:
    """The manifest (fixed) plus the APQ registrations (LRU, ``cache_size`` entries)."""

    def __init__(
        self,
        manifest: Mapping[str, str] | None = None,
        *,
        cache_size: int = 10_000,
        shared: SharedStore | None = None,
        shared_ttl_s: int = 86_400,
    ) -> None:
        self._shared = shared
        self._shared_ttl_s = shared_ttl_s
        self._manifest = dict(manifest or {})
        self._trusted = {h for h in map(normalized_hash, self._manifest.values()) if h is not None}
        self._registered: OrderedDict[str, str] = OrderedDict()
        self._cache_size = cache_size
        self._verdicts: OrderedDict[str, bool] = OrderedDict()  # raw text hash -> in safelist?

    def find(self, identifier: str) -> str | None:
        key = _id_key(identifier)
        found = self._manifest.get(key)
        if found is not None:
            return found
        found = self._registered.get(key)
        if found is not None:
            self._registered.move_to_end(key)
        return found

    async def lookup(self, identifier: str) -> str | None:
        """:meth:`find`, then the shared store (what another replica registered)."""
        found = self.find(identifier)
        if found is not None or self._shared is None:
            return found
        key = _id_key(identifier)
        stored = await self._shared.get_document(key)
        if stored is None or _sha256(stored) != key:
            return None
        self.register(key, stored)
        return stored

    async def remember(self, sha256_hex: str, document: str) -> None:
        """:meth:`register` here and in the shared store."""
        self.register(sha256_hex, document)
        if self._shared is not None:
            await self._shared.put_document(sha256_hex.lower(), document, self._shared_ttl_s)

    def in_manifest(self, identifier: str) -> bool:
        return _id_key(identifier) in self._manifest

    def register(self, sha256_hex: str, document: str) -> None:
        if self._cache_size <= 0:
            return
        self._registered[sha256_hex.lower()] = document
        self._registered.move_to_end(sha256_hex.lower())
        while len(self._registered) > self._cache_size:
            self._registered.popitem(last=False)

    def trusted(self, document: str) -> bool:
        """Whether free-form text is one of the manifest's documents (formatting aside)."""
        key = _sha256(document)
        verdict = self._verdicts.get(key)
        if verdict is None:
            verdict = normalized_hash(document) in self._trusted
            self._verdicts[key] = verdict
            if len(self._verdicts) > 4096:
                self._verdicts.popitem(last=False)
        return verdict


def _persisted_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The requested hash, or None when the request does not use persisted queries."""
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise BadRequest("'extensions.persistedQuery' must be an object", code="INVALID_PERSISTED_QUERY")
    if persisted.get("version", 1) != 1:
        raise BadRequest("unsupported persisted query version (only 1 is)", code="PERSISTED_QUERY_VERSION")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not digest:
        raise BadRequest("'persistedQuery.sha256Hash' must be a non-empty string", code="INVALID_PERSISTED_QUERY")
    return digest


def _not_found() -> RouterResponse:
    # Apollo clients look for this code (or message) and retry with the full query.
    error = {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    headers = {"cache-control": "private, no-cache, must-revalidate"}
    return RouterResponse(body={"errors": [error]}, outcome="request_error", headers=headers)


def persisted_queries_layer(documents: PersistedDocuments, *, apq: bool, safelist: SafelistMode) -> Layer:
    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            params = request.graphql
            assert params is not None, "persisted queries run after decoding"
            digest = _persisted_hash(params.extensions)
            query = params.query
            if digest is not None and not query:
                found = await documents.lookup(digest)
                if found is None:
                    if safelist == "enforce":
                        raise _not_in_list()
                    if not apq:
                        raise BadRequest("persisted queries are not enabled", code="PERSISTED_QUERY_NOT_SUPPORTED")
                    return _not_found()
                if safelist == "enforce" and not documents.in_manifest(digest) and not documents.trusted(found):
                    raise _not_in_list()
                request = request.evolve(graphql=_with_query(params, found))
            elif digest is not None:
                if not documents.in_manifest(digest) and _sha256(query) != _id_key(digest):
                    raise BadRequest(
                        "provided sha256Hash does not match the query", code="PERSISTED_QUERY_HASH_MISMATCH"
                    )
                _check_safelist(documents, safelist, query, request)  # before registering: no way around it
                if apq and not documents.in_manifest(digest):
                    await documents.remember(_id_key(digest), query)
            else:
                _check_safelist(documents, safelist, query, request)
            return await inner(request)

        return handle

    return wrap


def _not_in_list() -> BadRequest:
    return BadRequest("this operation id is not in the trusted documents", code="PERSISTED_QUERY_NOT_IN_LIST")


def _with_query(params: GraphQLRequest, query: str) -> GraphQLRequest:
    return GraphQLRequest(query, params.variables, params.operation_name, params.extensions)


def _check_safelist(documents: PersistedDocuments, mode: SafelistMode, query: str, request: RouterRequest) -> None:
    if mode == "off" or documents.trusted(query):
        return
    if mode == "log":
        logger.warning(
            "operation not in the trusted documents (request %s, normalised sha256 %s): %.200r",
            request.request_id, normalized_hash(query), query,
        )  # fmt: skip
        return
    raise BadRequest(
        "only trusted documents may run here; this operation is not in the list", code="QUERY_NOT_IN_SAFELIST"
    )
