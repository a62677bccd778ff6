"""An admin's retried management token is the same token (issue 11, item 4), end to end."""

from __future__ import annotations

from setrum_common.demo_data import ADMIN, DEMO_PASSWORD, METERS
from tests.e2e.conftest import Api, error_codes

ISSUE = """mutation($m: String!, $r: String, $v: Int) {
  issueManagementToken(meterNumber: $m, kind: SET_MAX_POWER, value: $v, clientReference: $r) { id token }
}"""


def test_a_retried_management_token_is_the_same_token(api: Api) -> None:
    query = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
    admin = api.data(query, {"e": ADMIN.email, "p": DEMO_PASSWORD})["signIn"]["token"]
    meter = METERS[4].number
    first = api.data(ISSUE, {"m": meter, "r": "retry-1", "v": 1300}, admin)["issueManagementToken"]
    again = api.data(ISSUE, {"m": meter, "r": "retry-1", "v": 1300}, admin)["issueManagementToken"]
    assert again == first  # the same token and the same record: no new TID was spent
    other = api.data(ISSUE, {"m": meter, "r": "retry-2", "v": 1300}, admin)["issueManagementToken"]
    assert other["token"] != first["token"]
    assert error_codes(api(ISSUE, {"m": meter, "r": "retry-1", "v": 2000}, admin)) == ["BAD_USER_INPUT"]
    listed = api.data(
        "query($m: String!) { managementTokens(meterNumber: $m, first: 10) { token } }", {"m": meter}, admin
    )["managementTokens"]
    assert [t["token"] for t in listed].count(first["token"]) == 1
