"""Router answers on our own schema for the planner bugs found by comparing 5,100 generated
queries with Apollo Gateway (issue 14 classes 9 and 10), against the five real processes."""

from __future__ import annotations

from .conftest import Api
from .test_purchase_flow import sign_up


def test_every_sub_field_skipped_answers_an_empty_object(api: Api) -> None:
    token, _ = sign_up(api)
    body = api("{ stampDutyRule { amount @skip(if: true) } }", token=token)
    assert body == {"data": {"stampDutyRule": {}}}
    body = api("{ channels { code @include(if: false) } }", token=token)
    assert "errors" not in body and body["data"]["channels"] and all(c == {} for c in body["data"]["channels"])
    body = api("query($s: Boolean!) { stampDutyRule { amount @skip(if: $s) } }", {"s": True}, token)
    assert body == {"data": {"stampDutyRule": {}}}
    body = api("{ stampDutyRule { ... on StampDutyRule @skip(if: true) { amount } } regions { code } }", token=token)
    assert body["data"]["stampDutyRule"] == {} and body["data"]["regions"] and "errors" not in body
