"""The web app's generated sources are current, and every operation it sends is valid for the router.

Like ``router compose --check``: ``web/schema.graphql`` must be the API schema of the checked-in
supergraph, and ``web/src/gql`` what GraphQL Code Generator makes of it (``graphql-codegen --check``).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil

import pytest
from graphql import OperationDefinitionNode, parse, validate

from router.supergraph import load_supergraph
from setrum import webapp

ROOT = webapp.REPO_ROOT
NPM = shutil.which("npm")
needs_npm = pytest.mark.skipif(NPM is None, reason="npm is not installed (apt-get install nodejs npm)")


def _manifest() -> dict[str, str]:
    return json.loads((webapp.WEB_DIR / "src" / "gql" / "persisted-documents.json").read_text())


def test_api_schema_file_is_current() -> None:
    assert webapp.API_SCHEMA.read_text() == webapp.api_schema_sdl(), "run `python -m setrum.webapp schema`"
    assert "join__" not in webapp.API_SCHEMA.read_text() and "_entities" not in webapp.API_SCHEMA.read_text()


def test_schema_check_command_fails_on_a_stale_file(monkeypatch: pytest.MonkeyPatch, tmp_path, capsys) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n")
    monkeypatch.setattr(webapp, "API_SCHEMA", stale)
    monkeypatch.setattr(webapp, "REPO_ROOT", tmp_path)
    assert webapp.main(["schema", "--check"]) == 1
    assert "stale" in capsys.readouterr().err
    assert webapp.main(["schema"]) == 0
    assert webapp.main(["schema", "--check"]) == 0


def test_every_persisted_document_is_valid_against_the_routers_api_schema() -> None:
    api_schema = load_supergraph((ROOT / "schema" / "supergraph.graphql").read_text()).api_schema
    manifest = _manifest()
    names = set()
    for digest, document in manifest.items():
        assert digest == "sha256:" + hashlib.sha256(document.encode()).hexdigest()
        errors = validate(api_schema, parse(document))
        assert not errors, (document, [e.message for e in errors])
        names |= {
            d.name.value for d in parse(document).definitions if isinstance(d, OperationDefinitionNode) and d.name
        }
    # The dashboard is one request across the three subgraphs.
    assert {"Dashboard", "PurchaseToken", "Quote", "TopUp", "Reprint", "History", "Inquiry", "SaveMeter"} <= names


@needs_npm
def test_generated_documents_are_current() -> None:
    current, output = webapp.codegen_is_current()
    assert current, f"web/src/gql is stale: run `npm run codegen` in web/\n{output}"


@needs_npm
def test_build_ships_the_manifest_and_stays_small() -> None:
    dist = webapp.ensure_built()
    assert json.loads((dist / "persisted-documents.json").read_text()) == _manifest()
    scripts = list((dist / "assets").glob("*.js"))
    assert scripts
    gzipped = sum(len(gzip.compress(p.read_bytes(), 9)) for p in scripts)
    assert gzipped <= 200 * 1024, f"{gzipped} bytes of gzipped JS"
    index = (dist / "index.html").read_text()
    assert 'src="/app/assets/' in index and "<script>" not in index  # no inline script (the CSP forbids it)
