"""Incremental delivery over HTTP: ``multipart/mixed`` as Apollo Router writes it
(docs/router.md §10 @defer and incremental delivery).

A client opts in with ``Accept: multipart/mixed;deferSpec=20220824`` (usually next to
``application/json``). The response is ``Content-Type: multipart/mixed;boundary="graphql";deferSpec=20220824``
and each payload is one part, sent as soon as it is ready::

    \\r\\n--graphql\\r\\ncontent-type: application/json\\r\\n\\r\\n{"data": ..., "hasNext": true}\\r\\n--graphql
    \\r\\ncontent-type: application/json\\r\\n\\r\\n{"incremental": [...], "hasNext": false}\\r\\n--graphql--\\r\\n
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import orjson
from starlette.responses import StreamingResponse

__all__ = ["DEFER_SPEC", "MULTIPART_DEFER_CONTENT_TYPE", "accepts_multipart_defer", "multipart_response"]

DEFER_SPEC = "20220824"
MULTIPART_DEFER_CONTENT_TYPE = f'multipart/mixed;boundary="graphql";deferSpec={DEFER_SPEC}'
_PART_HEAD = b"\r\ncontent-type: application/json\r\n\r\n"
_NEXT = b"\r\n--graphql"
_LAST = b"\r\n--graphql--\r\n"


@lru_cache(maxsize=256)
def accepts_multipart_defer(accept: str | None) -> bool:
    """Does the Accept header list ``multipart/mixed`` with ``deferSpec=20220824`` (and q > 0)? Asked once
    per request; a pure function of the header text, so memoised."""
    if not accept:
        return False
    for entry in accept.split(","):
        pieces = [p.strip() for p in entry.split(";")]
        if pieces[0].lower() != "multipart/mixed":
            continue
        params: dict[str, str] = {}
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        if q > 0 and params.get("deferspec") == DEFER_SPEC:
            return True
    return False


async def _parts(first: dict[str, Any], rest: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    last = first.get("hasNext") is False
    yield b"\r\n--graphql" + _PART_HEAD + orjson.dumps(first) + (_LAST if last else _NEXT)
    if last:
        return
    async for payload in rest:
        last = payload.get("hasNext") is False
        yield _PART_HEAD + orjson.dumps(payload) + (_LAST if last else _NEXT)
        if last:
            return
    yield _PART_HEAD + orjson.dumps({"hasNext": False}) + _LAST  # the iterator ended without saying so


def multipart_response(
    first: dict[str, Any], rest: AsyncIterator[dict[str, Any]], *, headers: dict[str, str] | None = None
) -> StreamingResponse:
    return StreamingResponse(
        _parts(first, rest), status_code=200, headers=headers, media_type=MULTIPART_DEFER_CONTENT_TYPE
    )
