"""Every field checks its owner (issue 11, item 5), walked through the real router.

The walk introspects the router's API schema and, for every field reachable from ``Query``,
asks it with a second customer's token, filling every argument with the first customer's
identifiers (her id, her purchases, her meter). Nothing the first customer owns may come back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from setrum_common.auth import Role, issue_customer_token
from setrum_common.demo_data import CUSTOMERS, DEMO_PASSWORD, METERS
from setrum_common.settings import DEV_JWT_SECRET
from tests.e2e.conftest import Api, error_codes

SITI, BUDI = CUSTOMERS[1], CUSTOMERS[2]
SITI_METER = METERS[3].number  # saved by Siti ("Kos Depok"), never by Budi

_INTROSPECTION = """{ __schema { queryType { name } types { name kind
  fields { name args { name type { ...T } } type { ...T } }
  possibleTypes { name } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""


def _sign_in(api: Api, email: str) -> str:
    query = "mutation($e: String!, $p: String!) { signIn(email: $e, password: $p) { token } }"
    return str(api.data(query, {"e": email, "p": DEMO_PASSWORD})["signIn"]["token"])


@pytest.fixture(scope="module")
def siti(api: Api) -> dict[str, Any]:
    """Siti's token and everything of hers an attacker must never see: one real purchase included."""
    token = _sign_in(api, SITI.email)
    api.data('mutation { topUpWallet(amount: "100000", paymentReference: "walk-topup") { balance } }', token=token)
    bought = api.data(
        f'mutation {{ purchaseToken(meterNumber: "{SITI_METER}", denomination: "20000", clientReference: "walk") '
        "{ id token channelReference } }",
        token=token,
    )["purchaseToken"]
    return {"token": token, "purchase": bought}


def _named(type_ref: dict[str, Any]) -> dict[str, Any]:
    while type_ref.get("ofType"):
        type_ref = type_ref["ofType"]
    return type_ref


def _argument(field: str, name: str, type_ref: dict[str, Any], siti: dict[str, Any]) -> str:
    """A value for a required argument, pointing at Siti's data wherever a name allows it."""
    scalar = _named(type_ref)
    lowered = name.lower()
    if scalar["name"] == "Decimal":
        return '"20000"'
    if scalar["kind"] == "ENUM":
        return "__ENUM__"
    if scalar["kind"] == "INPUT_OBJECT":
        return "{}"
    if scalar["name"] == "Int":
        return "5"
    if scalar["name"] == "Boolean":
        return "true"
    if "meter" in lowered or lowered == "number":
        value = SITI_METER
    elif lowered in ("id", "purchaseid") and "purchase" in (field + name).lower():
        value = siti["purchase"]["id"]
    elif "reference" in lowered:
        value = siti["purchase"]["channelReference"]
    elif lowered in ("day", "from", "to"):
        value = "2026-12-01"
    elif lowered == "month":
        value = "2026-12"
    elif "email" in lowered:
        value = SITI.email
    else:
        value = SITI.id
    return f'"{value}"'


def _needs_input(field: dict[str, Any]) -> bool:
    """A required input object cannot be made up generically (no query field takes one today)."""
    return any(a["type"]["kind"] == "NON_NULL" and _named(a["type"])["kind"] == "INPUT_OBJECT" for a in field["args"])


class _Walker:
    def __init__(self, schema: dict[str, Any], siti: dict[str, Any]) -> None:
        self.types = {t["name"]: t for t in schema["types"]}
        self.siti = siti

    def arguments(self, field: dict[str, Any]) -> str:
        required = [a for a in field["args"] if a["type"]["kind"] == "NON_NULL"]
        if not required:
            return ""
        parts = []
        for arg in required:
            value = _argument(field["name"], arg["name"], arg["type"], self.siti)
            if value == "__ENUM__":
                value = self.types[_named(arg["type"])["name"]]["enumValues"][0]["name"]
            parts.append(f"{arg['name']}: {value}")
        return "(" + ", ".join(parts) + ")"

    def selection(self, type_name: str, depth: int) -> str:
        kind = self.types[type_name]["kind"]
        if kind in ("SCALAR", "ENUM"):
            return ""
        if depth == 0:
            return "{ __typename }"
        if kind in ("INTERFACE", "UNION"):
            fragments = [f"... on {p['name']} {self.selection(p['name'], depth - 1)}"
                         for p in self.types[type_name]["possibleTypes"]]  # fmt: skip
            return "{ __typename " + " ".join(fragments) + " }"
        fields = []
        for field in self.types[type_name]["fields"]:
            if field["name"].startswith("__") or _needs_input(field):
                continue
            fields.append(
                field["name"] + self.arguments(field) + " " + self.selection(_named(field["type"])["name"], depth - 1)
            )
        return "{ __typename " + " ".join(fields) + " }"

    def root_queries(self, query_type: str) -> Iterator[tuple[str, str]]:
        """Each root field whole, then once per field of its type (an error on one field nulls its
        parent, which would hide what its siblings give away)."""
        for field in self.types[query_type]["fields"]:
            if field["name"].startswith("_") or _needs_input(field):
                continue
            call = field["name"] + self.arguments(field)
            type_name = _named(field["type"])["name"]
            yield field["name"], "{ " + call + " " + self.selection(type_name, 4) + " }"
            for sub in self.types[type_name].get("fields") or []:
                if sub["name"].startswith("__") or _needs_input(sub):
                    continue
                inner = sub["name"] + self.arguments(sub) + " " + self.selection(_named(sub["type"])["name"], 3)
                yield f"{field['name']}.{sub['name']}", "{ " + call + " { " + inner + " } }"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def test_no_field_gives_one_customer_another_customers_data(api: Api, siti: dict[str, Any]) -> None:
    schema = api.data(_INTROSPECTION)["__schema"]
    # Siti's own view names what is hers (and checks the walk reaches it when she asks).
    mine = api.data("{ me { id email phone wallet { balance } } }", token=siti["token"])["me"]
    secrets = {SITI.id, SITI.email, mine["phone"], siti["purchase"]["id"], siti["purchase"]["token"],
               siti["purchase"]["channelReference"]} - {None}  # fmt: skip
    budi = _sign_in(api, BUDI.email)
    walker = _Walker(schema, siti)
    leaks, asked = [], 0
    for name, query in walker.root_queries(schema["queryType"]["name"]):
        body = api(query, token=budi)
        asked += 1
        found = secrets.intersection(_strings(body.get("data")))
        if found:
            leaks.append((name, sorted(found)))
    assert asked > 10
    assert leaks == []
    # Usage of a meter Budi neither saved nor bought for: refused, not shown.
    usage = api(f'{{ meter(number: "{SITI_METER}") {{ monthlyUsage {{ kwh }} }} }}', token=budi)
    assert "FORBIDDEN" in error_codes(usage)
    assert (usage.get("data") or {}).get("meter") is None or usage["data"]["meter"].get("monthlyUsage") is None
    # ...while Siti, who saved and bought for it, sees it.
    own = api.data(f'{{ meter(number: "{SITI_METER}") {{ monthlyUsage {{ kwh }} }} }}', token=siti["token"])
    assert own["meter"]["monthlyUsage"]["kwh"] != "0.0"


def test_a_token_for_a_customer_who_does_not_exist_is_unauthenticated(api: Api) -> None:
    ghost, _ = issue_customer_token(DEV_JWT_SECRET, str(uuid.uuid4()), Role.CUSTOMER)
    for query in ('mutation { topUpWallet(amount: "50000", paymentReference: "ghost-1") { balance } }',
                  "{ me { id wallet { balance } } }"):  # fmt: skip
        body = api(query, token=ghost)
        assert "UNAUTHENTICATED" in error_codes(body), body
