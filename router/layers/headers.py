"""Header rules layer: compute the headers every subgraph fetch carries (Apollo's ``headers``).

Rules (see :class:`router.settings.HeaderRules`): propagate listed names and regex matches,
rename, insert static values, add the request id. Reserved headers
(:data:`router.settings.RESERVED_HEADERS`: hop-by-hop, ``content-length``, ``host``,
``apollo-federation-include-trace``...) are removed last, whatever rule produced them.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers

from router.http.context import Handler, Layer, RouterRequest, RouterResponse
from router.settings import RESERVED_HEADERS, HeaderRules

__all__ = ["compute_subgraph_headers", "header_rules_layer"]


class _CompiledRules:
    def __init__(self, rules: HeaderRules) -> None:
        self.names = frozenset(rules.propagate)
        self.patterns = [re.compile(p, re.IGNORECASE) for p in rules.propagate_matching]
        self.rename = dict(rules.rename)
        self.insert = dict(rules.insert)
        self.forward_request_id = rules.forward_request_id

    def propagates(self, name: str) -> bool:
        return name in self.names or name in self.rename or any(p.fullmatch(name) for p in self.patterns)


def compute_subgraph_headers(
    rules: HeaderRules | _CompiledRules, headers: Headers, *, request_id: str | None = None
) -> dict[str, str]:
    compiled = rules if isinstance(rules, _CompiledRules) else _CompiledRules(rules)
    out: dict[str, str] = {}
    for name in dict.fromkeys(headers.keys()):  # lower-case, first-seen order, unique
        if name in RESERVED_HEADERS or not compiled.propagates(name):
            continue
        out[compiled.rename.get(name, name)] = ", ".join(headers.getlist(name))
    out.update(compiled.insert)
    if compiled.forward_request_id and request_id:
        out.setdefault("x-request-id", request_id)
    return {k: v for k, v in out.items() if k not in RESERVED_HEADERS}


def header_rules_layer(rules: HeaderRules) -> Layer:
    compiled = _CompiledRules(rules)

    def wrap(inner: Handler) -> Handler:
        async def handle(request: RouterRequest) -> RouterResponse:
            headers = compute_subgraph_headers(compiled, request.http.headers, request_id=request.request_id)
            return await inner(request.evolve(subgraph_headers=headers))

        return handle

    return wrap
