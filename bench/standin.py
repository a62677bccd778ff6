"""Fast stand-in subgraphs: answer each distinct request body from memory.

``python -m bench.standin --port P --upstream users=URL --upstream master=URL ... [--auth "Bearer X"]``

Each subgraph is served at ``/<name>``. The first time a (path, body) pair is seen the answer is
computed ONCE by the real subgraph (seeded SQLite) at ``--upstream``, called with ``--auth`` (so a
gateway's own authorization header, unique per request or not, does not matter); the real subgraphs
answer only their router, so with ``ROUTER_SIGNING__KEY`` and ``ROUTER_SIGNING__KEY_ID`` in the
environment (the system's router settings) the call is signed as that router's, with the claims of
the ``--auth`` token, as the router forwards a verified token's claims; after that the
bytes are served from memory. So the stand-ins cost almost no CPU and the gateway in front of
them is what a load test measures, as in the public gateway benchmarks. Raw ASGI on
uvicorn + httptools, no framework. ``GET /stats`` gives hits and misses per subgraph.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
import orjson

from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, RouterSigner, encode_claims, load_private_key

__all__ = ["StandIn", "main"]

_JSON = [(b"content-type", b"application/json")]


class StandIn:
    def __init__(self, upstreams: dict[str, str], auth: str | None, signer: RouterSigner | None = None) -> None:
        self.upstreams = upstreams
        self.auth = auth
        self.signer = signer
        # The router forwards the claims it verified; the bench's own token is trusted as it is.
        token = (auth or "").removeprefix("Bearer ").strip()
        self.claims = encode_claims(jwt.decode(token, options={"verify_signature": False})) if token else ""
        self.memo: dict[tuple[str, bytes], tuple[int, bytes]] = {}
        self.pending: dict[tuple[str, bytes], asyncio.Future[tuple[int, bytes]]] = {}
        self.stats: dict[str, dict[str, int]] = {n: {"hits": 0, "misses": 0} for n in upstreams}
        self.client: httpx.AsyncClient | None = None

    async def _compute(self, name: str, body: bytes) -> tuple[int, bytes]:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=30.0)
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.auth:
            headers["authorization"] = self.auth
        url = self.upstreams[name]
        if self.signer is not None:
            headers[CLAIMS_HEADER] = self.claims
            headers[SIGNATURE_HEADER] = self.signer.sign("POST", urlsplit(url).path, body, self.claims)
        response = await self.client.post(url, content=body, headers=headers)
        return response.status_code, response.content

    async def answer(self, name: str, body: bytes) -> tuple[int, bytes]:
        key = (name, body)
        hit = self.memo.get(key)
        if hit is not None:
            self.stats[name]["hits"] += 1
            return hit
        self.stats[name]["misses"] += 1
        waiting = self.pending.get(key)
        if waiting is not None:
            return await waiting
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.pending[key] = future
        try:
            result = await self._compute(name, body)
        except Exception as exc:  # upstream down: answer with a GraphQL error, do not memoise
            result = (502, orjson.dumps({"errors": [{"message": f"stand-in upstream failed: {exc}"}]}))
        else:
            if result[0] == 200:
                self.memo[key] = result
        finally:
            self.pending.pop(key, None)
        future.set_result(result)
        return result

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.client is not None:
                        await self.client.aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"].strip("/")
        if scope["method"] == "GET":
            payload = (
                b'{"ok":true}' if path == "health" else orjson.dumps({"stats": self.stats, "memo": len(self.memo)})
            )
            await _reply(send, 200, payload)
            return
        name = path.split("/")[0]
        if name not in self.upstreams:
            await _reply(send, 404, b'{"errors":[{"message":"unknown subgraph"}]}')
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        status, payload = await self.answer(name, b"".join(chunks))
        await _reply(send, status, payload)


async def _reply(send: Any, status: int, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.standin")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", action="append", default=[], help="name=URL of the real subgraph")
    parser.add_argument("--auth", default=None, help="authorization header sent upstream when computing")
    args = parser.parse_args(argv)
    upstreams = dict(item.split("=", 1) for item in args.upstream)
    key, key_id = os.environ.get("ROUTER_SIGNING__KEY"), os.environ.get("ROUTER_SIGNING__KEY_ID")
    signer = RouterSigner(load_private_key(key), key_id) if key and key_id else None
    import uvicorn

    uvicorn.run(
        StandIn(upstreams, args.auth, signer),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
