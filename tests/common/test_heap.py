"""setrum_common.heap: start-up objects frozen out of the collector, and given back on thaw."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from setrum_common import heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def test_settle_freezes_the_heap_and_collects_the_young_less_often(restored_gc: None) -> None:
    gc.unfreeze()
    _, middle, oldest = gc.get_threshold()
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, middle, oldest)


def test_a_thawed_start_up_object_is_collected_once_it_is_garbage(restored_gc: None) -> None:
    node = _Node()
    ref = weakref.ref(node)
    heap.settle()
    del node
    gc.collect()
    assert ref() is not None  # frozen: out of the collector's sight
    heap.thaw()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert ref() is None


def test_garbage_made_after_settling_is_still_collected(restored_gc: None) -> None:
    heap.settle()
    node = _Node()
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is None
