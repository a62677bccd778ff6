"""A busy day's sales list from the biller is read whole: it is megabytes, far over the 1 MiB that is plenty for
every other answer between services (a day with 20,000 purchases once failed the daily reconciliation)."""

from __future__ import annotations

import json
from datetime import date

import httpx

from setrum_common.trust.service_keys import load_keyring
from subgraphs.transactions.clients.biller_client import BillerClient

ROWS = 15_000


def _sales_day(request: httpx.Request) -> httpx.Response:
    row = {
        "status": "SUCCESS",
        "reference": "",
        "billerReference": "B-0000000000000000",
        "token": "1234 5678 9012 3456 7890",
        "kwh": "12.3",
        "issuedAt": "2026-12-01T10:00:00+00:00",
        "amount": "100000",
    }
    rows = [{**row, "reference": f"purchase-{n:08d}"} for n in range(ROWS)]
    return httpx.Response(200, content=json.dumps({"purchases": rows, "truncated": False}).encode())


async def test_a_multi_megabyte_sales_list_is_read_whole() -> None:
    client = BillerClient(
        "http://biller.test", load_keyring("transactions", None, None), transport=httpx.MockTransport(_sales_day)
    )
    try:
        sales, truncated = await client.sales_of_day(date(2026, 12, 1))
    finally:
        await client.aclose()
    assert not truncated
    assert len(sales) == ROWS
    assert sales[-1][0].reference == f"purchase-{ROWS - 1:08d}"


def _paged_day(request: httpx.Request) -> httpx.Response:
    """Five sales in pages of two, as the biller pages them (``after`` a row id, ``next`` the last id)."""
    after = int(request.url.params.get("after", "0"))
    limit = int(request.url.params.get("limit", "20000"))
    ids = [n for n in range(1, 6) if n > after][: limit + 1]
    more, page = len(ids) > limit, ids[:limit]
    rows = [
        {"status": "SUCCESS", "reference": f"p-{n}", "billerReference": f"B-{n}", "token": None, "kwh": None,
         "issuedAt": None, "amount": "20000"}
        for n in page
    ]  # fmt: skip
    return httpx.Response(200, json={"purchases": rows, "truncated": more, "next": str(page[-1]) if more else None})


async def test_a_day_longer_than_a_page_is_read_page_after_page() -> None:
    client = BillerClient(
        "http://biller.test", load_keyring("transactions", None, None), transport=httpx.MockTransport(_paged_day)
    )
    try:
        sales, truncated = await client.sales_of_day(date(2026, 12, 1), page_size=2)
    finally:
        await client.aclose()
    assert not truncated
    assert [outcome.reference for outcome, _ in sales] == ["p-1", "p-2", "p-3", "p-4", "p-5"]
