"""``router explain`` (explain_command)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from router.planning.explain_cli import explain_command

from ._support import SETS


def test_explain_prints_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = tmp_path / "q.graphql"
    q.write_text("query Two { topProducts { name reviews { body } } }")
    sg = str(SETS / "entities" / "supergraph.graphql")
    assert explain_command(["--supergraph", sg, str(q)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("QueryPlan {") and 'Flatten(path: "topProducts.@")' in out
    assert explain_command(["--supergraph", sg, "--json", str(q)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["node"]["kind"] == "Sequence"
    assert data["node"]["nodes"][1]["node"]["serviceName"] == "reviews"


def test_explain_reads_stdin_json_body_and_operation_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    body = json.dumps({"query": "query A { me { name } } query B { topProducts { id } }"})
    monkeypatch.setattr(sys, "stdin", io.StringIO(body))
    sg = str(SETS / "entities" / "supergraph.graphql")
    assert explain_command(["--supergraph", sg, "--operation-name", "B"]) == 0
    assert 'service: "products"' in capsys.readouterr().out


def test_explain_reports_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = tmp_path / "q.graphql"
    q.write_text("{ nope }")
    sg = str(SETS / "entities" / "supergraph.graphql")
    assert explain_command(["--supergraph", sg, str(q)]) == 1
    assert "Cannot query field 'nope'" in capsys.readouterr().err
    assert explain_command(["--supergraph", str(tmp_path / "missing.graphql"), str(q)]) == 2
