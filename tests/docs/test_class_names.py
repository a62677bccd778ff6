"""One name per concept: no two classes of the product's Python packages share a name.

A name that means two things in two packages (master's ``Meter`` row and the biller's, the router's request
context and a subgraph's) makes a reader open the import to know which one a function takes. A module that
re-exports a class (``from .x import Name``) does not define it again, so re-exports are fine. Classes nested in
another class or a function are the enclosing one's business and are not counted.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("router", "sts", "setrum_common", "subgraphs", "biller", "payments", "setrum", "bench")
SKIPPED_DIRS = {".work", "node_modules", "__pycache__"}


def module_classes(tree: ast.Module) -> Iterator[ast.ClassDef]:
    """Classes a module defines at its top level, including inside top-level if/try blocks."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.ClassDef):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            pending.extend(node.body + node.orelse)
            if isinstance(node, ast.Try):
                pending.extend(node.finalbody)
                for handler in node.handlers:
                    pending.extend(handler.body)


def class_definitions() -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in module_classes(tree):
                where[node.name].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return where


def test_no_two_classes_share_a_name() -> None:
    shared = {name: places for name, places in class_definitions().items() if len(places) > 1}
    assert not shared, (
        "these class names are defined more than once; give each concept its own name "
        "(e.g. UsersSettings, BillerMeter, PurchaseType with strawberry's name= keeping the GraphQL name) "
        f"or re-export one from the other: {shared}"
    )


def test_the_check_sees_the_packages() -> None:
    """Guards the test above against silently scanning nothing (a moved package, a wrong root)."""
    where = class_definitions()
    assert "Gateway" in where and "ServiceContext" in where and "BillerMeter" in where
