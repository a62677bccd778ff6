"""Service identities for tests: real (non-development) keys for production settings, and the
headers a service sends when it calls another one."""

from __future__ import annotations

import time
from typing import Any

import jwt
from pydantic import SecretStr

from setrum_common.trust.service_keys import (
    ServiceKeyring,
    generate_deployment_keys,
    load_keyring,
    private_key_variable,
)
from setrum_common.trust.service_tokens import service_headers

__all__ = ["DEPLOYMENT_KEYS", "production_key_env", "production_key_settings", "service_role_token", "signed_as"]

DEPLOYMENT_KEYS = generate_deployment_keys()  # one deployment's keys for the whole test session


def production_key_settings(service: str) -> dict[str, Any]:
    """Settings values giving ``service`` its own real key and every service's public key."""
    return {
        "service_key": SecretStr(DEPLOYMENT_KEYS[private_key_variable(service)]),
        "service_public_keys": DEPLOYMENT_KEYS["SETRUM_SERVICE_PUBLIC_KEYS"],
    }


def production_key_env(service: str) -> dict[str, str]:
    """The same as environment variables."""
    return {
        "SETRUM_SERVICE_KEY": DEPLOYMENT_KEYS[private_key_variable(service)],
        "SETRUM_SERVICE_PUBLIC_KEYS": DEPLOYMENT_KEYS["SETRUM_SERVICE_PUBLIC_KEYS"],
    }


def signed_as(
    caller: str, audience: str, method: str, path: str, body: bytes = b"", *, keyring: ServiceKeyring | None = None
) -> dict[str, str]:
    """The header ``caller`` sends on a request to ``audience`` (its development key unless ``keyring``)."""
    return service_headers(keyring or load_keyring(caller, None, None), audience, method, path, body)


def service_role_token(secret: str, *, subject: str = "transactions") -> str:
    """A bearer token claiming the SERVICE role, as a leaked secret could mint one (the attack of issue 11):
    no GraphQL endpoint may take it for an admin, a customer or anyone."""
    now = int(time.time())
    claims = {"sub": subject, "role": "SERVICE", "iat": now, "exp": now + 300, "iss": "setrum", "aud": "setrum-api"}
    return jwt.encode(claims, secret, algorithm="HS256")
