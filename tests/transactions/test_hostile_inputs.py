"""Inputs that used to make transactions raise (and log a traceback) answer BAD_USER_INPUT instead."""

from __future__ import annotations

import base64

import pytest

from setrum_common.demo_data import METERS

from .conftest import BUDI, GraphQL, error_code

MONTHLY_USAGE = """query($n: String!, $month: String) {
  _entities(representations: [{__typename: "Meter", number: $n}]) { ... on Meter { monthlyUsage(month: $month) { kwh } } }
}"""
WALLET_ENTRIES = "query($after: String) { wallet { entries(first: 5, after: $after) { nodes { amount } } } }"
CUSTOMER_PURCHASES = """query($id: ID!, $after: String) {
  _entities(representations: [{__typename: "Customer", id: $id}]) {
    ... on Customer { purchases(first: 5, after: $after) { nodes { id } } }
  }
}"""


def _cursor(text: str | bytes) -> str:
    raw = text.encode() if isinstance(text, str) else text
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "0001-01"])
async def test_monthly_usage_out_of_range_months(gql: GraphQL, month: str) -> None:
    result = await gql(MONTHLY_USAGE, {"n": METERS[1].number, "month": month}, as_=BUDI)
    assert error_code(result) == "BAD_USER_INPUT", result


@pytest.mark.parametrize(
    "cursor",
    [_cursor(b"\xff\xfe garbage"), _cursor("i|99999999999999999999999"), _cursor("i|\u00b2"), _cursor("i|-1"), "%%%"],
)
async def test_wallet_entries_bad_cursors(gql: GraphQL, cursor: str) -> None:
    assert error_code(await gql(WALLET_ENTRIES, {"after": cursor}, as_=BUDI)) == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "cursor",
    [_cursor("t|0001-01-01T00:00:00+14:00|x"), _cursor("t|9999-12-31T23:59:59-14:00|x"), _cursor("t|2026-01-01|x")],
)
async def test_purchase_cursors_outside_the_calendar(gql: GraphQL, cursor: str) -> None:
    result = await gql(CUSTOMER_PURCHASES, {"id": BUDI, "after": cursor}, as_=BUDI)
    assert error_code(result) == "BAD_USER_INPUT", result


async def test_a_valid_cursor_still_pages(gql: GraphQL) -> None:
    result = await gql(WALLET_ENTRIES, {"after": _cursor("i|1000000")}, as_=BUDI)
    assert "errors" not in result, result


@pytest.mark.parametrize("bound", ["from", "to"])
@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
async def test_purchase_time_filters_outside_the_calendar(gql: GraphQL, bound: str, at: str) -> None:
    query = CUSTOMER_PURCHASES.replace("$after: String)", "$at: DateTime)").replace("after: $after", f"{bound}: $at")
    result = await gql(query, {"id": BUDI, "at": at}, as_=BUDI)
    assert error_code(result) == "BAD_USER_INPUT", result
