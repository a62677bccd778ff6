"""Keys and tokens for the edge-authentication tests: an HS256 secret, RSA and Ed25519 key pairs
with their JWKS entries, and a small HTTP server that serves a JWKS document and counts fetches."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

HS_SECRET = "edge-test-hs256-secret-0123456789abcdef"
ISSUER = "setrum"
AUDIENCE = "setrum-api"


@dataclass
class KeyPair:
    kid: str
    alg: str
    private: Any
    public: Any

    def jwk(self) -> dict[str, Any]:
        exporter: Any = RSAAlgorithm if self.alg == "RS256" else OKPAlgorithm
        entry: dict[str, Any] = exporter.to_jwk(self.public, as_dict=True)
        return {**entry, "kid": self.kid, "alg": self.alg, "use": "sig"}

    def sign(self, claims: dict[str, Any], *, kid: str | None = "same", alg: str | None = None) -> str:
        headers = {"kid": self.kid if kid == "same" else kid} if kid is not None else {}
        return jwt.encode(claims, self.private, algorithm=alg or self.alg, headers=headers)


def rsa_pair(kid: str) -> KeyPair:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(kid, "RS256", private, private.public_key())


def ed25519_pair(kid: str) -> KeyPair:
    private = ed25519.Ed25519PrivateKey.generate()
    return KeyPair(kid, "EdDSA", private, private.public_key())


def jwks(*pairs: KeyPair) -> dict[str, Any]:
    return {"keys": [p.jwk() for p in pairs]}


def customer_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "c-1",
        "role": "CUSTOMER",
        "sid": "s-1",
        "sv": 0,
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def hs256(claims: dict[str, Any], secret: str = HS_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


@dataclass
class JwksServer:
    """Serves ``document`` at ``/jwks.json`` on 127.0.0.1; ``hits`` counts the fetches."""

    document: dict[str, Any]
    hits: int = 0
    url: str = ""
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)


@contextmanager
def serve_jwks(document: dict[str, Any]) -> Iterator[JwksServer]:
    state = JwksServer(document)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            body = json.dumps(state.document).encode()
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
