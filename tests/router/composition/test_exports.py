"""The public surface of router.composition is written down (`__all__`) and importable."""

from __future__ import annotations

import importlib
import pkgutil

import router.composition as package


def test_every_module_declares_a_sorted_complete_all() -> None:
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        exported = getattr(module, "__all__", None)
        assert exported is not None, info.name
        assert list(exported) == sorted(exported), info.name
        for name in exported:
            assert hasattr(module, name), f"{info.name}.{name}"


def test_package_exports_the_entry_points() -> None:
    assert set(package.__all__) >= {"compose", "SubgraphSource", "CompositionResult", "CompositionError"}
