"""The served router settles its heap after start-up (setrum_common/heap.py), and a hot reload
gives the frozen first gateway back to the collector."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from router.__main__ import _app_from_env
from router.layers.reload import GatewayPool, SupergraphWatcher
from setrum_common import heap
from tests.router.http.fixtures import SUPERGRAPH_V2


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_the_served_app_is_built_with_a_settled_heap(
    supergraph_file: Path, monkeypatch: pytest.MonkeyPatch, restored_gc: None
) -> None:
    monkeypatch.setenv("ROUTER_SUPERGRAPH", str(supergraph_file))
    gc.unfreeze()
    _app_from_env()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == heap.YOUNG_THRESHOLD


class _CyclicGateway:
    """A gateway double in a reference cycle (as a real one's schema is): only the collector frees it."""

    def __init__(self) -> None:
        self.me = self

    async def aclose(self) -> None:
        return None


async def test_a_reload_lets_the_frozen_first_gateway_be_collected(supergraph_file: Path, restored_gc: None) -> None:
    pool = GatewayPool(_CyclicGateway())  # type: ignore[arg-type]
    watcher = SupergraphWatcher(supergraph_file, pool, lambda _text: _CyclicGateway(), interval_s=60)  # type: ignore[arg-type,return-value]
    first = weakref.ref(pool.current)
    heap.settle()  # as the served router does once built
    supergraph_file.write_text(SUPERGRAPH_V2)
    assert await watcher.check_once() is True
    gc.collect()
    assert first() is None
