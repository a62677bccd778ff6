"""``contexts`` set over real HTTP: ``@context``/``@fromContext`` (Federation 2.8, issue 14 "also supported now").

ledger sets ``userContext`` on User and reads ``{ currency }`` from it in ``Transaction.display(currency:)`` and,
two levels down, ``Line.label(unit:)``; the currency lives in accounts (external in ledger). The router fetches it
from accounts with the users, then passes each user's currency as the argument of the entity fetch of that user's
transactions: users with different currencies share one ledger request (one aliased ``_entities`` per currency).
The argument is not in the API schema. Each case runs on Apollo's composition of the set (checked in) and on ours.
"""

from __future__ import annotations

import pytest

COMPOSERS = pytest.mark.parametrize("ours", [False, True], ids=["reference_composer", "our_composer"])


def _context_requests(run):
    """The ledger requests that carry a context variable."""
    return [body for body in run.apps["ledger"].requests if "contextualArgument" in body["query"]]


@COMPOSERS
async def test_the_argument_comes_from_the_users_currency(run_set, ours):
    run = await run_set("contexts", ours=ours)
    body = await run.query('{ user(id: "u2") { name transactions { id display(digits: 2) } } }')
    assert body == {"data": {"user": {"name": "Budi", "transactions": [{"id": "t3", "display": "12.00 USD"}]}}}
    assert run.calls() == ["accounts", "ledger", "ledger"]
    [request] = _context_requests(run)
    assert [v for k, v in request["variables"].items() if k.startswith("contextualArgument")] == ["USD"]


@COMPOSERS
async def test_different_currencies_share_one_request_and_errors_keep_their_path(run_set, ours):
    run = await run_set("contexts", ours=ours)
    body = await run.query("{ users { id transactions { id display } } }")
    assert body["data"] == {
        "users": [
            {"id": "u1", "transactions": [{"id": "t1", "display": "20000 IDR"}, {"id": "t2", "display": "50000 IDR"}]},
            {"id": "u2", "transactions": [{"id": "t3", "display": "12 USD"}]},
            {"id": "u3", "transactions": [{"id": "t4", "display": None}]},
        ]
    }
    [error] = body["errors"]
    assert error["message"] == "transaction t4 has a negative amount"
    assert error["path"] == ["users", 2, "transactions", 0, "display"]
    assert run.calls() == ["accounts", "ledger", "ledger"]
    [request] = _context_requests(run)
    # IDR (u1, u3) and USD (u2): two aliased _entities selections in one request
    assert "_0: _entities" in request["query"] and "_1: _entities" in request["query"]
    variables = request["variables"]
    groups = sorted(
        (variables[k], sorted(r["id"] for r in variables["representations_" + k.rsplit("_", 1)[1]]))
        for k in variables
        if k.startswith("contextualArgument")
    )
    assert groups == [("IDR", ["t1", "t2", "t4"]), ("USD", ["t3"])]


@COMPOSERS
async def test_a_context_two_levels_up(run_set, ours):
    run = await run_set("contexts", ours=ours)
    body = await run.query("{ users { name transactions { lines { label } } } }")
    assert body == {
        "data": {
            "users": [
                {
                    "name": "Ayu",
                    "transactions": [
                        {"lines": [{"label": "l1 (IDR)"}]},
                        {
                            "lines": [
                                {"label": "l2 (IDR)"},
                                {"label": "l3 (IDR)"},
                            ]
                        },
                    ],
                },
                {"name": "Budi", "transactions": [{"lines": [{"label": "l4 (USD)"}]}]},
                {"name": "Citra", "transactions": [{"lines": []}]},
            ]
        }
    }
    assert run.calls() == ["accounts", "ledger", "ledger"]


@COMPOSERS
async def test_no_context_field_no_extra_fetch(run_set, ours):
    run = await run_set("contexts", ours=ours)
    body = await run.query('{ user(id: "u1") { transactions { amount } } }')
    assert body == {"data": {"user": {"transactions": [{"amount": 20000}, {"amount": 50000}]}}}
    assert run.calls() == ["accounts", "ledger"]
    assert "currency" not in run.apps["accounts"].requests[0]["query"]


@COMPOSERS
async def test_the_argument_is_not_in_the_api_schema(run_set, ours):
    run = await run_set("contexts", ours=ours)
    body = await run.query('{ user(id: "u1") { transactions { display(currency: "EUR") } } }')
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert run.calls() == []
