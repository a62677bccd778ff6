"""The transactions subgraph's quote client, pointed at this app: the binding-quote contract holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from setrum_common import demo_data as demo
from setrum_common.errors import DomainError
from setrum_common.trust.service_keys import load_keyring
from subgraphs.master.settings import MasterSettings

master_client = pytest.importorskip("subgraphs.transactions.clients.master_client")


async def test_transactions_client_gets_a_binding_quote(app: Any, settings: MasterSettings) -> None:
    client = master_client.MasterClient(
        "http://test/graphql",
        load_keyring("transactions", None, None),
        transport=httpx.ASGITransport(app=app),
    )
    try:
        quote = await client.quote(demo.METERS[1].number, Decimal("1000000"), None)
        assert (quote.ppj, quote.ppn, quote.energy_value, quote.kwh) == (
            Decimal("34782.61"),
            Decimal("95652.17"),
            Decimal("869565.22"),
            Decimal("511.6"),
        )
        assert quote.kwh_tenths == 5116
        assert quote.limit_tenths == 55440  # 7,700 VA -> 5,544 kWh a month
        blocked = next(m for m in demo.METERS if m.status == "BLOCKED")
        with pytest.raises(DomainError) as error:
            await client.quote(blocked.number, Decimal("100000"), None)
        assert error.value.code == "CUSTOMER_BLOCKED"
    finally:
        await client.aclose()
