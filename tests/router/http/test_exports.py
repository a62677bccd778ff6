"""Every public module of the HTTP edge declares a complete, existing ``__all__``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import router.http
import router.layers

MODULES = sorted(
    {"router.app", "router.pipeline", "router.settings", "router.__main__"}
    | {m.name for pkg in (router.http, router.layers) for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + ".")}
    | {"router.http", "router.layers"}
)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist_and_public_definitions_are_listed(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert len(set(exported)) == len(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.__all__ lists missing {item}"
    if hasattr(module, "__path__"):
        return  # packages re-export; their submodules are checked themselves
    defined_here = {
        n
        for n, obj in vars(module).items()
        if not n.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name
    }
    assert defined_here <= set(exported), f"{name} does not export {defined_here - set(exported)}"
