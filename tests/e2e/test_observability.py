"""Observability across processes: one trace from the router to the biller, metrics everywhere."""

from __future__ import annotations

import time
import uuid

import httpx

from .conftest import Api
from .test_purchase_flow import BUY, sign_up


def test_one_trace_id_follows_a_purchase_from_router_to_biller(api: Api, system) -> None:
    token, _ = sign_up(api, balance=100_000)
    trace_id = uuid.uuid4().hex
    traceparent = f"00-{trace_id}-{uuid.uuid4().hex[:16]}-01"
    response = api.client.post(
        system.router_url,
        json={"query": BUY, "variables": {"meter": "14233784991", "denomination": "20000", "ref": uuid.uuid4().hex}},
        headers={"authorization": f"Bearer {token}", "traceparent": traceparent},
    )
    assert response.json()["data"]["purchaseToken"]["status"] == "SUCCESS"
    logs = system.log_dir
    deadline = time.monotonic() + 10
    seen: set[str] = set()
    while time.monotonic() < deadline and seen != {"router", "transactions", "master", "biller"}:
        seen = {
            name
            for name in ("router", "transactions", "master", "biller")
            if f"0x{trace_id}" in (logs / f"{name}.log").read_text()
        }
        time.sleep(0.2)
    assert seen == {"router", "transactions", "master", "biller"}


def test_every_service_serves_metrics(system) -> None:
    for spec in system.specs:
        text = httpx.get(f"{spec.base_url}/metrics", timeout=10).text
        assert "http_requests_total" in text or "router_requests_total" in text, spec.name
    ready = [httpx.get(f"{spec.base_url}/ready", timeout=10) for spec in system.specs]
    assert all(r.status_code == 200 for r in ready), [r.text for r in ready]
