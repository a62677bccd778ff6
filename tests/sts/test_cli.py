"""``token inspect`` with key parameters given as flags (no biller database)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from sts.cli import inspect_command

from .conftest import COMMON, VECTORS

VECTOR = VECTORS["vectors"][0]
FLAGS = ["--meter", VECTOR["iain"], "--no-register", "--iin", VECTOR["iin"], "--sgc", COMMON["sgc"],
         "--ti", COMMON["ti"], "--krn", str(COMMON["krn"]), "--key-type", str(COMMON["key_type"]),
         "--base", "1993"]  # fmt: skip


def _run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    code = inspect_command(argv, out=out)
    return code, out.getvalue()


@pytest.fixture(autouse=True)
def vending_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_STS_VENDING_KEY", COMMON["vending_key"])


def test_inspect_decodes_a_vector() -> None:
    code, out = _run([*FLAGS, VECTOR["token"]])
    assert code == 0
    assert "ELECTRICITY_CREDIT" in out
    assert "2004-03-01 13:55 UTC" in out
    assert "0.1 kWh" in out
    assert "VALID" in out
    assert COMMON["vending_key"] not in out.lower()


def test_inspect_reports_a_mistyped_digit() -> None:
    token = VECTOR["token"][:-1] + str((int(VECTOR["token"][-1]) + 1) % 10)
    code, out = _run([*FLAGS, token])
    assert code == 1
    assert "CRC_ERROR" in out


def test_inspect_with_the_wrong_meter_is_a_crc_error() -> None:
    flags = list(FLAGS)
    flags[1] = "00000000008"
    code, out = _run([*flags, VECTOR["token"]])
    assert (code, "CRC_ERROR" in out) == (1, True)


def test_inspect_key_file_wins_over_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SETRUM_STS_VENDING_KEY", "0000000000000000")
    key_file = tmp_path / "vk"
    key_file.write_text(COMMON["vending_key"])
    code, _ = _run([*FLAGS, "--key-file", str(key_file), VECTOR["token"]])
    assert code == 0
    code, _ = _run([*FLAGS, VECTOR["token"]])
    assert code == 1  # the environment's (wrong) key: CRC error


def test_inspect_with_a_decoder_key() -> None:
    code, out = _run(
        ["--meter", VECTOR["iain"], "--base", "1993", "--decoder-key", "e653341f9d5bf36f", VECTOR["token"]]
    )
    assert code == 0 and "0.1 kWh" in out


def test_inspect_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([*FLAGS, "1234"])[0] == 1  # not a token: a format error the meter shows
    assert _run(["--meter", "123", "--no-register", VECTOR["token"]])[0] == 2
    assert _run([VECTOR["token"]])[0] == 2  # --meter is required
    assert _run(["--meter", VECTOR["iain"], "--no-register", "--sgc", "12", VECTOR["token"]])[0] == 2


def test_inspect_reads_both_key_change_sections() -> None:
    # The CTSA05 pair for the first vector's meter (TI 01 -> 02), see test_keychange.
    code, out = _run([*FLAGS, "51638423060042734509"])
    assert code == 0
    assert "KEY_CHANGE_FIRST" in out and "KRN 1, KT 2, rollover no" in out
    code, out = _run([*FLAGS, "15361891762113502242"])
    assert code == 0
    assert "KEY_CHANGE_SECOND" in out and "TI 02" in out
    assert "enter the 1st section, then the 2nd, then the credit token" in out
