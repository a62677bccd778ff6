"""``requires_args`` set over real HTTP: ``@requires`` with field arguments, two fields requiring
the same field with different arguments (USD and EUR). Each requirement keeps its own value: the
representations for ``totalUsd`` carry the USD price and those for ``totalEur`` the EUR price,
never one renamed onto the other (issue 14 class 3)."""

from __future__ import annotations

# price + shipping per currency; duty = EUR price // 10
EXPECTED = {
    "p1": {"totalUsd": 107, "totalEur": 98, "dutyEur": 9},
    "p2": {"totalUsd": 257, "totalEur": 236, "dutyEur": 23},
}


def _prices_sent(run):
    """(sorted field names each shipping request asks, the prices in its representations)."""
    out = []
    for body in run.apps["shipping"].entity_requests():
        asked = sorted(f for f in ("totalUsd", "totalEur", "dutyEur") if f in body["query"])
        out.append((asked, [r["price"] for r in body["variables"]["representations"]]))
    return sorted(out)


async def test_two_requirements_with_different_arguments_keep_their_own_values(run_set):
    run = await run_set("requires_args")
    body = await run.query("{ products { id totalUsd totalEur } }")
    assert body == {
        "data": {
            "products": [{"id": p, "totalUsd": e["totalUsd"], "totalEur": e["totalEur"]} for p, e in EXPECTED.items()]
        }
    }
    # One catalog fetch with both prices, then one shipping fetch per requirement (in parallel).
    assert sorted(run.calls()) == ["catalog", "shipping", "shipping"]
    assert _prices_sent(run) == [(["totalEur"], [92, 230]), (["totalUsd"], [100, 250])]


async def test_fields_with_the_same_requirement_share_one_fetch(run_set):
    run = await run_set("requires_args")
    body = await run.query("{ products { totalEur dutyEur totalUsd } }")
    assert body == {"data": {"products": list(EXPECTED.values())}}
    assert sorted(run.calls()) == ["catalog", "shipping", "shipping"]
    assert _prices_sent(run) == [(["dutyEur", "totalEur"], [92, 230]), (["totalUsd"], [100, 250])]


async def test_client_price_in_a_third_form_next_to_both_requirements(run_set):
    run = await run_set("requires_args")
    body = await run.query('{ product(id: "p2") { price(currency: EUR) usd: price(currency: USD) totalUsd totalEur } }')
    assert body == {"data": {"product": {"price": 230, "usd": 250, "totalUsd": 257, "totalEur": 236}}}
    assert sorted(run.calls()) == ["catalog", "shipping", "shipping"]
    assert _prices_sent(run) == [(["totalEur"], [230]), (["totalUsd"], [250])]


async def test_a_single_requirement_with_arguments_is_one_fetch(run_set):
    run = await run_set("requires_args")
    body = await run.query('{ product(id: "p1") { name dutyEur } }')
    assert body == {"data": {"product": {"name": "Kettle", "dutyEur": 9}}}
    assert run.calls() == ["catalog", "shipping"]
    assert _prices_sent(run) == [(["dutyEur"], [92])]


async def test_requirements_under_a_conditional_fragment_and_beside_it_do_not_clash(run_set):
    # Found by the differential test (seed 306983): totalEur's EUR price went inside the `@include` fragment and
    # totalUsd's USD price beside it, both unaliased, and catalog refused two `price` fields with other arguments.
    run = await run_set("requires_args")
    query = "query Q($v: Boolean!) { products { ... @include(if: $v) { totalEur } id a1: totalUsd dutyEur } }"
    body = await run.query(query, {"v": False})
    assert body == {
        "data": {"products": [{"id": p, "a1": e["totalUsd"], "dutyEur": e["dutyEur"]} for p, e in EXPECTED.items()]}
    }
    body = await run.query(query, {"v": True})
    assert body == {
        "data": {
            "products": [
                {"totalEur": e["totalEur"], "id": p, "a1": e["totalUsd"], "dutyEur": e["dutyEur"]}
                for p, e in EXPECTED.items()
            ]
        }
    }


async def test_a_requirement_inside_a_conditional_fragment_after_one_beside_it(run_set):
    run = await run_set("requires_args")
    query = "query Q($v: Boolean!) { products { a1: totalUsd ... @include(if: $v) { totalEur } } }"
    body = await run.query(query, {"v": True})
    assert body == {"data": {"products": [{"a1": e["totalUsd"], "totalEur": e["totalEur"]} for e in EXPECTED.values()]}}
