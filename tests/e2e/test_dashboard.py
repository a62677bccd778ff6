"""One request, three subgraphs: the front end's dashboard through the router."""

from __future__ import annotations

from decimal import Decimal

from setrum_common.demo_data import DEMO_PASSWORD

from .conftest import Api

DASHBOARD = """
query Dashboard {
  me {
    name
    wallet { balance }
    meters { alias meter { number holderName powerVa tariff { code rate } region { name } monthlyUsage { kwh limitKwh } } }
    purchases(first: 3) { nodes { status kwh meter { number holderName } } pageInfo { hasNextPage } }
  }
}
"""


def test_dashboard_spans_users_master_and_transactions(api: Api) -> None:
    token = api.data(
        'mutation($p: String!) { signIn(email: "budi@example.id", password: $p) { token } }', {"p": DEMO_PASSWORD}
    )["signIn"]["token"]
    purchase = api.data(
        'mutation { purchaseToken(meterNumber: "56001234568", denomination: "1000000", clientReference: "dash-1") { status kwh ppn } }',
        token=token,
    )["purchaseToken"]
    assert purchase["status"] == "SUCCESS"
    assert Decimal(purchase["kwh"]) == Decimal("511.6")  # docs/domain.md §Price and kWh: R-3/7,700 VA Jakarta with PPN
    assert Decimal(purchase["ppn"]) == Decimal("95652.17")

    me = api.data(DASHBOARD, token=token)["me"]
    assert me["name"] == "Budi Santoso"
    assert Decimal(me["wallet"]["balance"]) < Decimal(5_000_000)
    saved = {m["meter"]["number"]: m for m in me["meters"]}
    home = saved["56001234568"]
    assert home["alias"] == "Rumah"
    assert home["meter"]["tariff"]["code"] == "R3" and home["meter"]["region"]["name"] == "DKI Jakarta"
    assert Decimal(home["meter"]["monthlyUsage"]["kwh"]) >= Decimal("511.6")
    assert Decimal(home["meter"]["monthlyUsage"]["limitKwh"]) == Decimal("5544")  # 7,700 VA / 1000 × 720
    latest = me["purchases"]["nodes"][0]
    assert latest["meter"] == {"number": "56001234568", "holderName": "Budi Santoso"}


def test_admin_reconciles_every_wallet(api: Api) -> None:
    token = api.data(
        'mutation($p: String!) { signIn(email: "admin@setrum.id", password: $p) { token } }', {"p": DEMO_PASSWORD}
    )["signIn"]["token"]
    report = api.data("{ walletReconciliation { ok walletsChecked walletMismatches { customerId } } }", token=token)
    assert report["walletReconciliation"]["ok"] is True
    assert report["walletReconciliation"]["walletsChecked"] >= 4


def test_the_readme_examples_run_as_written(api: Api) -> None:
    import re

    from setrum.launcher import REPO_ROOT

    examples = re.findall(r"```graphql\n(.*?)```", (REPO_ROOT / "README.md").read_text(), re.S)
    sign_in, dashboard = examples[0], next(e for e in examples if "query Dashboard" in e)
    token = api.data(sign_in)["signIn"]["token"]
    me = api.data(dashboard, token=token)["me"]
    assert me["name"] == "Siti Rahmawati"
    assert {m["meter"]["number"] for m in me["meters"]} >= {"14233784991"}
    assert all(m["meter"]["tariff"]["code"] for m in me["meters"])
