"""The pipeline's vocabulary: one request context, one response, and the handler/layer shapes.

Every stage of :mod:`router.pipeline` is a :data:`Handler`; every cross-cutting concern is a
:data:`Layer` (a function from handler to handler, like Apollo Router's plugin hooks or a
Starlette middleware). A :class:`RouterRequest` starts as raw HTTP and is filled in as it
travels inward: the decoder sets ``graphql``, the request-id layer ``request_id``, the
authentication layer ``claims``, the header rules ``subgraph_headers``. Layers derive a new
request with :meth:`RouterRequest.evolve` instead of mutating the one they were given, so a
batch can fan one request out safely.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.requests import Request
from starlette.responses import Response

__all__ = [
    "GraphQLRequest",
    "Handler",
    "Layer",
    "MediaType",
    "Outcome",
    "RouterRequest",
    "RouterResponse",
]

MediaType = Literal["application/graphql-response+json", "application/json", "text/event-stream"]
# What the GraphQL layer concluded; the encoder turns it into an HTTP status per media type.
Outcome = Literal["ok", "request_error", "method_not_allowed"]


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    """The GraphQL-over-HTTP request parameters (spec §"Request Parameters")."""

    query: str
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RouterRequest:
    http: Request
    media_type: MediaType = "application/json"
    body: bytes | None = None
    graphql: GraphQLRequest | None = None
    allow_mutations: bool = True
    request_id: str | None = None
    subgraph_headers: Mapping[str, str] = field(default_factory=dict)
    include_plan: bool = False
    claims: Mapping[str, Any] | None = None  # the verified JWT claims (authentication layer); None: anonymous
    batched: bool = False  # one entry of a batch (answered inside the batch's JSON array, never incrementally)

    def evolve(self, **changes: Any) -> RouterRequest:
        """A copy with ``changes`` (several layers derive one per request: no ``dataclasses.replace``,
        which re-runs the generated ``__init__`` with its checks)."""
        unknown = changes.keys() - _REQUEST_FIELDS
        if unknown:
            raise TypeError(f"RouterRequest has no field(s) {', '.join(sorted(unknown))}")
        new = object.__new__(RouterRequest)
        for name in _REQUEST_FIELDS:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new


_REQUEST_FIELDS = tuple(f.name for f in dataclasses.fields(RouterRequest))


@dataclass(slots=True)
class RouterResponse:
    """A GraphQL response body (or a list of them for a batch) plus HTTP extras."""

    body: dict[str, Any] | list[dict[str, Any]]
    outcome: Outcome = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None  # forces the HTTP status (413, 415...) regardless of outcome
    # Incremental delivery (@defer): ``body`` is the first payload, these follow (router/http/multipart.py).
    stream: AsyncIterator[dict[str, Any]] | None = None
    streaming: Response | None = None  # a ready streaming answer (GraphQL over SSE): the encoder sends it as is


Handler = Callable[[RouterRequest], Awaitable[RouterResponse]]
Layer = Callable[[Handler], Handler]
