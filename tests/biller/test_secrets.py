"""The vending key: refused in production when it is the development default, never shown."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from biller.settings import DEV_VENDING_KEY, BillerSettings
from tests.service_keys import production_key_settings

from .conftest import METER, TEST_VENDING_KEY, SignedClient, sale_body

STRONG: dict[str, Any] = {"jwt_secret": SecretStr("j" * 40), **production_key_settings("biller")}


def _production(**values: Any) -> BillerSettings:
    return BillerSettings(environment="production", **STRONG, **values)


def test_production_refuses_the_development_vending_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETRUM_STS_VENDING_KEY", raising=False)
    monkeypatch.delenv("BILLER_VENDING_KEY_FILE", raising=False)
    with pytest.raises(ValidationError, match="development STS vending key"):
        _production()
    with pytest.raises(ValidationError, match="development STS vending key"):
        _production(vending_key=SecretStr(DEV_VENDING_KEY.lower()))
    assert _production(vending_key=SecretStr(TEST_VENDING_KEY)).vending_key_bytes().hex().upper() == TEST_VENDING_KEY


def test_vending_key_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SETRUM_STS_VENDING_KEY", raising=False)
    key_file = tmp_path / "vk"
    key_file.write_text(TEST_VENDING_KEY + "\n")
    settings = _production(vending_key_file=key_file)
    assert settings.vending_key_bytes() == bytes.fromhex(TEST_VENDING_KEY)
    with pytest.raises(ValidationError, match="cannot read"):
        _production(vending_key_file=tmp_path / "missing")


def test_a_malformed_key_is_refused_without_echoing_it() -> None:
    secret_typo = "3A7C19E0B45D28FZ"
    with pytest.raises(ValidationError) as info:
        BillerSettings(vending_key=SecretStr(secret_typo))
    assert secret_typo not in str(info.value)
    assert TEST_VENDING_KEY not in repr(BillerSettings(vending_key=SecretStr(TEST_VENDING_KEY)))


async def test_the_key_never_appears_in_responses_or_logs(
    biller: SignedClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts = []
    texts.append((await biller.request("POST", "/v1/purchases", sale_body("k-1", tenths=10))).text)  # fmt: skip
    texts.append((await biller.status("k-1")).text)
    texts.append((await biller.request("PUT", "/v1/faults", {"mode": "pending_then_success"})).text)
    texts.append((await biller.request("POST", "/v1/purchases", sale_body("k-2", tenths=10))).text)  # fmt: skip
    texts.append((await biller.status("k-2")).text)
    texts.append((await biller.request("POST", "/v1/management-tokens", {
        "meterNumber": METER, "kind": "CLEAR_TAMPER", "value": None, "reference": "k-3"})).text)  # fmt: skip
    texts.append((await biller.request("POST", "/v1/purchases", {"bad": 1})).text)
    texts.append((await biller.request("POST", "/v1/purchases", {}, sign=False)).text)
    texts.append((await biller.http.get("/health")).text)
    everything = "\n".join([*texts, caplog.text, *(r.getMessage() for r in caplog.records)])
    assert "issued token" in caplog.text  # the log did record the sales
    for form in (TEST_VENDING_KEY, TEST_VENDING_KEY.lower()):
        assert form not in everything
