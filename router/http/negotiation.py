"""Content negotiation for GraphQL over HTTP (spec §"Accept" and §"Content-Type").

The server speaks two response media types: ``application/graphql-response+json`` (the spec's
own, with meaningful status codes) and legacy ``application/json`` (200 for every well-formed
GraphQL response). A missing ``Accept`` header or a bare wildcard means legacy JSON, which is what
existing clients expect; an explicit ``q=0`` is a refusal.
"""

from __future__ import annotations

from functools import lru_cache

from .context import MediaType

__all__ = [
    "EVENT_STREAM",
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "accepts_html",
    "choose_media_type",
    "is_json_content_type",
    "json_media_type",
]

GRAPHQL_RESPONSE_JSON: MediaType = "application/graphql-response+json"
JSON: MediaType = "application/json"
EVENT_STREAM: MediaType = "text/event-stream"  # GraphQL over SSE (router/http/subscriptions.py)


def _parse_accept(header: str) -> list[tuple[str, float, int]]:
    """``[(media_range, q, position)]`` for each entry of an Accept header."""
    entries = []
    for position, part in enumerate(header.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        q = 1.0
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
        entries.append((media, q, position))
    return entries


@lru_cache(maxsize=256)
def choose_media_type(accept: str | None) -> MediaType | None:
    """Pick the response media type, or ``None`` when the client accepts neither (-> 406).
    A pure function of the header text, asked twice per request (decode and encode): memoised."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, MediaType] | None = None
    for media, q, position in _parse_accept(accept):
        if q <= 0:
            continue
        if media == GRAPHQL_RESPONSE_JSON:
            candidate: MediaType = GRAPHQL_RESPONSE_JSON
        elif media in (JSON, "application/*", "*/*", "multipart/mixed"):
            candidate = JSON  # multipart/mixed: incremental delivery; anything else is answered as JSON
        elif media == EVENT_STREAM:
            candidate = EVENT_STREAM
        else:
            continue
        rank = (q, position, candidate)
        if best is None or _better(rank, best):
            best = rank
    return None if best is None else best[2]


def _better(rank: tuple[float, int, MediaType], best: tuple[float, int, MediaType]) -> bool:
    """Higher q wins. On a tie between a stream and JSON the client's order decides (clients such as
    urql list every type they can read, JSON first, and must get JSON for a query); between the two
    JSON types graphql-response+json wins."""
    if rank[0] != best[0]:
        return rank[0] > best[0]
    if EVENT_STREAM in (rank[2], best[2]) and rank[2] != best[2]:
        return rank[1] < best[1]
    return rank[2] == GRAPHQL_RESPONSE_JSON and best[2] != GRAPHQL_RESPONSE_JSON


def json_media_type(media_type: MediaType | None) -> MediaType:
    """The JSON type to answer with when no stream is sent (an error before the stream started)."""
    return JSON if media_type is None or media_type == EVENT_STREAM else media_type


def accepts_html(accept: str | None) -> bool:
    """True for a browser navigation (``text/html`` listed with q > 0)."""
    if not accept:
        return False
    return any(media == "text/html" and q > 0 for media, q, _ in _parse_accept(accept))


def is_json_content_type(content_type: str | None) -> bool:
    """``application/json`` with no charset or UTF-8 (the spec requires UTF-8 bodies)."""
    if not content_type:
        return False
    pieces = [p.strip() for p in content_type.split(";")]
    if pieces[0].lower() != JSON:
        return False
    for param in pieces[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True
