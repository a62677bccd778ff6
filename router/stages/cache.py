"""A small LRU map with hit/miss counters (the document and operation caches)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

__all__ = ["LRU"]

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    __slots__ = ("_data", "_max", "hits", "misses")

    def __init__(self, maxsize: int) -> None:
        self._data: OrderedDict[K, V] = OrderedDict()
        self._max = max(1, maxsize)
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        data = self._data
        value = data.get(key)
        if value is not None:
            data.move_to_end(key)
            self.hits += 1
        else:
            self.misses += 1
        return value

    def put(self, key: K, value: V) -> None:
        data = self._data
        data[key] = value
        data.move_to_end(key)
        if len(data) > self._max:
            data.popitem(last=False)

    def cached_keys(self) -> list[K]:
        return list(self._data)

    def __len__(self) -> int:
        return len(self._data)
