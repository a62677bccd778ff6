"""The README is part of the product: its configuration table and commands must stay true."""

from __future__ import annotations

from pathlib import Path

from setrum.settings_doc import render_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_table_matches_the_settings_classes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert render_markdown() in readme, "run `python -m setrum.settings_doc --write`"


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "./scripts/test" in readme and "./scripts/dev" in readme
    assert ci.rstrip().splitlines()[-1].strip() == "./scripts/test"
