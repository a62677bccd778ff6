"""Every published known-answer vector, reproduced exactly, both ways."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from sts.amount import kwh_to_tenths
from sts.tid import BASE_1993, tid_for
from sts.tokens import TokenClass, credit_token, parse_token

from .conftest import COMMON, VECTORS, vector_decoder_key

IDS = [v["id"] for v in VECTORS["vectors"]]


def test_expected_decoder_key_from_about() -> None:
    match = re.search(r"meter_pan (\d{18}).*?: ([0-9a-f]{16})\.", VECTORS["about"])
    assert match, "the about text names the expected decoder key"
    pan, expected = match.groups()
    vector = next(v for v in VECTORS["vectors"] if v["meter_pan"] == pan)
    assert vector_decoder_key(vector) == int(expected, 16)


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=IDS)
def test_vector_token_is_reproduced(vector: dict) -> None:
    issued = credit_token(
        vector_decoder_key(vector),
        kwh_to_tenths(vector["amount_kwh"]),
        issued_at=datetime.fromisoformat(vector["issued_at"]),
        base=BASE_1993,
        rnd=COMMON["rnd"],
    )
    assert issued.token == vector["token"]


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=IDS)
def test_vector_token_decodes(vector: dict) -> None:
    decoded = parse_token(vector["token"], vector_decoder_key(vector), BASE_1993)
    issued_at = datetime.fromisoformat(vector["issued_at"])
    assert decoded.token_class == TokenClass.CREDIT == COMMON["token_class"]
    assert decoded.subclass == COMMON["subclass"]
    assert decoded.rnd == COMMON["rnd"]
    assert decoded.tid == tid_for(issued_at, BASE_1993)
    assert decoded.issued_at.replace(tzinfo=None) == issued_at
    assert decoded.kind == "ELECTRICITY_CREDIT"
    # The token carries at least the amount asked for, never less than the rounded tenths.
    assert decoded.amount_tenths is not None
    assert decoded.amount_tenths >= kwh_to_tenths(vector["amount_kwh"])
