"""The trust chain over real processes (the launcher's system): the router verifies the client's
token at the edge and signs what it sends; the subgraphs answer GraphQL only to their router and
take the caller from the signed claims, so nothing a client sends can stand in for them."""

from __future__ import annotations

import time

import httpx
import jwt

from setrum.launcher import System
from setrum_common.demo_data import CUSTOMERS, DEMO_PASSWORD
from setrum_common.settings import DEV_JWT_SECRET
from setrum_common.trust import CLAIMS_HEADER, SIGNATURE_HEADER, encode_claims
from tests.e2e.conftest import Api, error_codes
from tests.service_keys import service_role_token

SIGN_IN = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
ME = "{ me { id email } }"


def _sign_in(api: Api, index: int) -> str:
    customer = CUSTOMERS[index]
    token: str = api.data(SIGN_IN, {"e": customer.email, "p": DEMO_PASSWORD})["signIn"]["token"]
    return token


def test_bad_tokens_stop_at_the_router_and_good_ones_reach_the_subgraphs(api: Api, system: System) -> None:
    token = _sign_in(api, 1)
    assert api.data(ME, token=token)["me"]["email"] == CUSTOMERS[1].email
    claims = jwt.decode(token, options={"verify_signature": False})
    expired = jwt.encode({**claims, "exp": int(time.time()) - 120}, DEV_JWT_SECRET, algorithm="HS256")
    forged = jwt.encode({**claims, "role": "ADMIN"}, "not-the-secret-but-32-characters-long!", algorithm="HS256")
    service = service_role_token(DEV_JWT_SECRET)
    for bad in (expired, forged, service, "garbage"):
        response = httpx.post(system.router_url, json={"query": ME}, headers={"authorization": f"Bearer {bad}"})
        assert response.status_code == 401, response.text
        assert error_codes(response.json()) == ["UNAUTHENTICATED"]


def test_client_supplied_claims_and_signatures_are_not_forwarded(api: Api, system: System) -> None:
    siti, budi = _sign_in(api, 1), _sign_in(api, 2)
    budi_claims = jwt.decode(budi, options={"verify_signature": False})
    headers = {
        "authorization": f"Bearer {siti}",
        CLAIMS_HEADER: encode_claims({**budi_claims, "role": "ADMIN"}),
        SIGNATURE_HEADER: "kid=x,t=1,n=y,sig=z",
    }
    response = httpx.post(system.router_url, json={"query": ME}, headers=headers)
    assert response.json()["data"]["me"]["email"] == CUSTOMERS[1].email  # still Siti, not Budi, not an admin
    anonymous = httpx.post(system.router_url, json={"query": ME}, headers={CLAIMS_HEADER: headers[CLAIMS_HEADER]})
    assert anonymous.json()["data"]["me"] is None


def test_subgraphs_refuse_direct_graphql_but_answer_their_router(api: Api, system: System) -> None:
    token = _sign_in(api, 1)
    claims = jwt.decode(token, options={"verify_signature": False})
    signer = system.router_signer()
    for name in ("users", "master", "transactions"):
        url = system.spec(name).base_url + "/graphql"
        for query in ("{ _service { sdl } }", "{ __schema { queryType { name } } }"):
            direct = httpx.post(url, json={"query": query}, headers={"authorization": f"Bearer {token}"})
            assert direct.status_code == 401, (name, direct.text)
            assert error_codes(direct.json()) == ["UNAUTHENTICATED"]
        body = b'{"query": "{ _service { sdl } }"}'
        encoded = encode_claims(claims)
        signed = {
            "content-type": "application/json",
            CLAIMS_HEADER: encoded,
            SIGNATURE_HEADER: signer.sign("POST", "/graphql", body, encoded),
        }
        answer = httpx.post(url, content=body, headers=signed)
        assert answer.status_code == 200 and "type Query" in answer.json()["data"]["_service"]["sdl"]
        metrics = httpx.get(system.spec(name).base_url + "/metrics").text
        assert 'setrum_router_signature_rejected_total{reason="missing"}' in metrics
