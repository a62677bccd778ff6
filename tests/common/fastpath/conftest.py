"""Every contract test here runs twice: on our fast path and on the stock library path. The HTTP
ones also run on uvloop, the event loop the services run on (uvicorn's choice when installed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import pytest

_ON_BOTH_LOOPS = {"test_http_contract.py", "test_subgraph_http_contract.py"}


@pytest.fixture(params=[True, False], ids=["fast", "stock"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    factories: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {"asyncio": asyncio.new_event_loop}
    if item.path.name in _ON_BOTH_LOOPS:
        import uvloop  # installed with uvicorn[standard]

        factories["uvloop"] = uvloop.new_event_loop
    return factories
