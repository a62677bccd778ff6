"""Production-style customer tokens over real processes: users signs them with an Ed25519 (or RSA)
private key and publishes the public key at /.well-known/jwks.json; the router verifies them from
that URL. An HS256 token with the development secret is then refused at the edge."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from pydantic import SecretStr

from setrum.launcher import System, SystemPorts, free_port
from setrum_common.demo_data import CUSTOMERS, DEMO_PASSWORD
from setrum_common.settings import DEV_JWT_SECRET
from subgraphs.users.settings import UsersSettings
from subgraphs.users.tokens import token_signer

SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"


def _pem(key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_users_signs_with_eddsa_and_the_router_verifies_from_its_jwks(tmp_path: Path) -> None:
    system = System(
        tmp_path,
        ports=SystemPorts(*(free_port() for _ in range(5))),
        log_dir=tmp_path / "logs",
        extra_env={
            "USERS_TOKEN_SIGNING_KEY": _pem(ed25519.Ed25519PrivateKey.generate()),
            "USERS_TOKEN_SIGNING_KEY_ID": "users-2026-12",
        },
    )
    system.start(["users", "router"], timeout_s=60)
    try:
        customer = CUSTOMERS[1]
        signed_in = httpx.post(
            system.router_url, json={"query": SIGN_IN, "variables": {"e": customer.email, "p": DEMO_PASSWORD}}
        ).json()
        token = signed_in["data"]["signIn"]["token"]
        assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "kid": "users-2026-12", "typ": "JWT"}
        published = httpx.get(system.spec("users").base_url + "/.well-known/jwks.json").json()
        assert [(k["kid"], k["alg"], "d" in k) for k in published["keys"]] == [("users-2026-12", "EdDSA", False)]

        me = httpx.post(
            system.router_url, json={"query": "{ me { email } }"}, headers={"authorization": f"Bearer {token}"}
        )
        assert me.json() == {"data": {"me": {"email": customer.email}}}

        claims = jwt.decode(token, options={"verify_signature": False})
        hs = jwt.encode({**claims, "exp": int(time.time()) + 600}, DEV_JWT_SECRET, algorithm="HS256")
        refused = httpx.post(
            system.router_url, json={"query": "{ me { email } }"}, headers={"authorization": f"Bearer {hs}"}
        )
        assert refused.status_code == 401
    finally:
        system.stop()


def test_rsa_signing_key_and_published_rotation_keys(tmp_path: Path) -> None:
    old = ed25519.Ed25519PrivateKey.generate()
    from jwt.algorithms import OKPAlgorithm

    previous = {**OKPAlgorithm.to_jwk(old.public_key(), as_dict=True), "kid": "users-old", "alg": "EdDSA"}
    (tmp_path / "published.json").write_text(__import__("json").dumps({"keys": [previous]}))
    settings = UsersSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/u.db",
        token_signing_key=_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        token_signing_key_id="users-new",
        token_published_keys_file=tmp_path / "published.json",
    )
    signer = token_signer(settings)
    assert signer.algorithm == "RS256" and signer.key_id == "users-new"
    assert [k["kid"] for k in signer.published["keys"]] == ["users-new", "users-old"]
    assert all("d" not in k for k in signer.published["keys"])
    assert token_signer(settings) is signer  # loaded once
    with pytest.raises(ValueError, match="2048"):
        token_signer(
            settings.model_copy(update={"token_signing_key": SecretStr(_pem(rsa.generate_private_key(65537, 1024)))})
        )
