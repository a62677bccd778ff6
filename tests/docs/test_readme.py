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


def test_every_graphql_example_in_the_readme_is_valid_against_the_api_schema() -> None:
    import re

    from graphql import parse, validate

    from router.supergraph import load_supergraph

    api_schema = load_supergraph((ROOT / "schema" / "supergraph.graphql").read_text()).api_schema
    examples = re.findall(r"```graphql\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(examples) >= 3
    for example in examples:
        errors = validate(api_schema, parse(example))
        assert not errors, (example, [e.message for e in errors])
