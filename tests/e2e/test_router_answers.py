"""Router answers on our own schema for the planner bugs found by comparing 5,100 generated
queries with Apollo Gateway (issue 14 classes 9 and 10), against the five real processes."""

from __future__ import annotations

from .conftest import Api
from .test_purchase_flow import active_meter, sign_up

SAVE = 'mutation($n: String!) { saveMeter(number: $n, alias: "home") { alias } }'
METER_PURCHASES = "query($n: String!) { meter(number: $n) { number purchases { nodes { id } } } }"
SAVED_USAGE = "{ savedMeters { alias meter { number monthlyUsage { kwh limitKwh } } } }"


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


def test_one_entity_type_on_two_paths_answers_as_each_path_alone(api: Api) -> None:
    token, _ = sign_up(api)
    number = active_meter()
    api.data(SAVE, {"n": number}, token)
    alone_meter = api.data(METER_PURCHASES, {"n": number}, token)
    alone_saved = api.data(SAVED_USAGE, token=token)
    assert alone_saved["savedMeters"][0]["meter"]["monthlyUsage"]["limitKwh"] is not None
    together = api.data(
        """query($n: String!) { meter(number: $n) { number purchases { nodes { id } } }
           savedMeters { alias meter { number monthlyUsage { kwh limitKwh } } } }""",
        {"n": number},
        token,
    )
    assert together == {**alone_meter, **alone_saved}
