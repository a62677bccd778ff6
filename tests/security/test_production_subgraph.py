"""A subgraph process in production mode (real HTTP): ``_service { sdl }``, introspection and any
other GraphQL without its router's signature get 401 and are counted; its router's requests pass."""

from __future__ import annotations

from pathlib import Path

import httpx

from setrum.launcher import System, SystemPorts, free_port
from setrum_common.trust import SIGNATURE_HEADER

STRONG = {
    "SETRUM_ENV": "production",
    "SETRUM_JWT_SECRET": "production-jwt-secret-for-this-test-0123456789",
}


def test_production_users_answers_graphql_only_to_its_router(tmp_path: Path) -> None:
    system = System(
        tmp_path,
        ports=SystemPorts(*(free_port() for _ in range(5))),
        seed=False,
        log_dir=tmp_path / "logs",
        extra_env=STRONG,
    )
    system.start(["users"], timeout_s=60)
    try:
        base = system.spec("users").base_url
        for query in ("{ _service { sdl } }", "{ __schema { types { name } } }", "{ me { id } }"):
            response = httpx.post(f"{base}/graphql", json={"query": query})
            assert response.status_code == 401, response.text
            assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        forged = httpx.post(
            f"{base}/graphql",
            json={"query": "{ _service { sdl } }"},
            headers={SIGNATURE_HEADER: f"kid={system.router_key_id},t=1,n=abc,sig=AAAA"},
        )
        assert forged.status_code == 401
        body = b'{"query": "{ _service { sdl } }"}'
        signed = {
            "content-type": "application/json",
            SIGNATURE_HEADER: system.router_signer().sign("POST", "/graphql", body),
        }
        assert httpx.post(f"{base}/graphql", content=body, headers=signed).status_code == 200
        metrics = httpx.get(f"{base}/metrics").text
        assert 'setrum_router_signature_rejected_total{reason="missing"} 3.0' in metrics
        assert 'setrum_router_signature_rejected_total{reason="expired"} 1.0' in metrics
    finally:
        system.stop()
