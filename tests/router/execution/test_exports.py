"""The public surface of the execution-side modules is written down and complete."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "router.execution",
    "router.execution.executor",
    "router.execution.introspection",
    "router.execution.deep_merge",
    "router.execution.paths",
    "router.execution.projection",
    "router.gateway",
    "router.subgraph_client",
]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolvable(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported)
    for attr in exported:
        assert hasattr(module, attr), f"{name}.{attr}"
