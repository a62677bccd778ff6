"""The bench's stand-in subgraphs ask the real subgraph as the system's router would: each first call is signed
with the router's key over the body and the bench customer's claims (subgraphs answer only their router), and
the answer is then served from memory."""

from __future__ import annotations

import httpx
import jwt

from bench.standin import StandIn
from setrum_common.trust import (
    CLAIMS_HEADER,
    SIGNATURE_HEADER,
    RouterSigner,
    RouterVerifier,
    decode_claims,
    generate_private_key,
)

CLAIMS = {"sub": "00000000-0000-4000-8000-000000000002", "role": "CUSTOMER", "iss": "setrum-users"}


async def test_first_calls_are_signed_as_the_router_with_the_customers_claims_then_memoised() -> None:
    key = generate_private_key()
    verifier = RouterVerifier({"bench-router": key.public_key()}, window_s=30)
    token = jwt.encode(CLAIMS, "a development secret of at least thirty-two chars", algorithm="HS256")
    seen: list[dict[str, object]] = []

    def master(request: httpx.Request) -> httpx.Response:
        claims = request.headers.get(CLAIMS_HEADER, "")
        # raises (and so fails the call) unless signed by the router's key over this path, body and claims
        verifier.verify(request.headers.get(SIGNATURE_HEADER), "POST", request.url.path, request.content, claims)
        seen.append(decode_claims(claims))
        return httpx.Response(200, json={"data": {"meter": {"number": "14233784991"}}})

    standin = StandIn({"master": "http://master.test/graphql"}, f"Bearer {token}", RouterSigner(key, "bench-router"))
    standin.client = httpx.AsyncClient(transport=httpx.MockTransport(master))
    body = b'{"query":"{ meter(number: \\"14233784991\\") { number } }"}'
    try:
        for _ in range(3):
            status, payload = await standin.answer("master", body)
            assert status == 200 and b"14233784991" in payload
        other = await standin.answer("master", body.replace(b"number }", b"number __typename }"))
        assert other[0] == 200
    finally:
        await standin.client.aclose()
    assert seen == [CLAIMS, CLAIMS]  # once per distinct body, each with a fresh signature (no replay refused)
    assert standin.stats["master"] == {"hits": 2, "misses": 2}
