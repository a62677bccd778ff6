from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sts.keys import MeterKeyParams, derive_decoder_key, parse_vending_key

_HERE = Path(__file__).resolve().parent


def load_vectors() -> dict[str, Any]:
    """The published STS known-answer vectors (docs/domain.md §STS tokens), kept with the tests."""
    return json.loads((_HERE / "sts_vectors.json").read_text())


VECTORS = load_vectors()
COMMON = VECTORS["common"]


def vector_params(vector: dict[str, Any]) -> MeterKeyParams:
    return MeterKeyParams(
        meter_number=vector["iain"],
        iin=vector["iin"],
        key_type=COMMON["key_type"],
        supply_group_code=COMMON["sgc"],
        tariff_index=COMMON["ti"],
        key_revision=COMMON["krn"],
    )


def vector_decoder_key(vector: dict[str, Any]) -> int:
    return derive_decoder_key(parse_vending_key(COMMON["vending_key"]), vector_params(vector))


@pytest.fixture
def demo_key() -> int:
    """The decoder key of the first published vector's meter."""
    return vector_decoder_key(VECTORS["vectors"][0])
