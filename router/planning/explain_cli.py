"""``router explain``: print the query plan for an operation.

    python -m router explain [--supergraph FILE] [--operation-name NAME] [--json] [QUERY_FILE]

The query is read from QUERY_FILE (a ``.graphql`` file, or a ``.json`` file with a
``query`` member) or from stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from graphql import GraphQLError, parse, validate

from router.errors import PlanningError

from ..supergraph import SupergraphError, load_supergraph
from .planner import build_query_plan
from .printer import plan_to_json, plan_to_text

__all__ = ["explain_command"]

DEFAULT_SUPERGRAPH = "schema/supergraph.graphql"


def _read_query(source: str | None) -> tuple[str, str | None]:
    text = Path(source).read_text() if source and source != "-" else sys.stdin.read()
    stripped = text.lstrip()
    if stripped.startswith("{") and stripped.rstrip().endswith("}") and '"query"' in stripped:
        try:
            body = json.loads(stripped)
        except json.JSONDecodeError:
            return text, None
        if isinstance(body, dict) and isinstance(body.get("query"), str):
            return body["query"], body.get("operationName")
    return text, None


def explain_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="router explain", description="Print the query plan of an operation.")
    parser.add_argument("query", nargs="?", help="file with the operation (.graphql or JSON body); stdin if omitted")
    parser.add_argument("--supergraph", default=DEFAULT_SUPERGRAPH, help="supergraph SDL file")
    parser.add_argument("--operation-name", default=None)
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--override-label", action="append", default=[], help="active progressive-override label")
    args = parser.parse_args(argv)
    try:
        supergraph = load_supergraph(Path(args.supergraph).read_text())
    except OSError as exc:
        print(f"error: cannot read supergraph: {exc}", file=sys.stderr)
        return 2
    except SupergraphError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    try:
        query, body_name = _read_query(args.query)
    except OSError as exc:
        print(f"error: cannot read query: {exc}", file=sys.stderr)
        return 2
    try:
        document = parse(query)
    except GraphQLError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    errors = validate(supergraph.api_schema, document)
    if errors:
        for e in errors:
            print(f"error: {e.message}", file=sys.stderr)
        return 1
    try:
        plan = build_query_plan(
            supergraph,
            document,
            args.operation_name or body_name,
            override_labels=frozenset(args.override_label),
        )
    except PlanningError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(plan_to_json(plan), indent=2))
    else:
        print(plan_to_text(plan), end="")
    return 0
