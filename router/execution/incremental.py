"""Run the deferred parts of a plan and build the incremental payloads
(docs/router.md §10 @defer and incremental delivery).

After the primary response is sent, every active ``@defer`` site whose enclosing sites are done runs
its plan over the same merged data (the primary's fetches left the entity keys there), concurrently
with its siblings. As each finishes, its fragment is projected at every object it applies to, found
by walking the already delivered response (the primary, or the payload of the site it is nested
in), so a fragment under a null parent or an empty list yields nothing. Each finished site becomes
one payload in the ``deferSpec=20220824`` format::

    {"incremental": [{"data": {...}, "path": ["me", "purchases", 0], "label": "l", "errors": [...]}],
     "hasNext": true}

Errors from a site's fetches go into the item whose path they fall under.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from router.defer.sites import DeferSite, Location
from router.planning.query_plan import PlanNode

from .deep_merge import deep_merge
from .executor import ExecutionOutcome
from .projection import FragmentProjection

__all__ = ["DeferredDelivery", "RunPart"]

#: Runs one part's plan node over the shared merged data; returns that part's errors and covered paths.
RunPart = Callable[[PlanNode], Awaitable[ExecutionOutcome]]

_PRIMARY = 0  # site ids start at 1
_FAILED = "The router could not run this deferred part (details in the router log)"
logger = logging.getLogger("router.execution")


@dataclass(slots=True)
class _Item:
    """One delivered object: where it is, what the client got there, and the merged data behind it."""

    site: int
    location: Location | None
    path: list[str | int]
    data: dict[str, Any] | None
    raw: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)


class DeferredDelivery:
    def __init__(
        self,
        *,
        sites: Mapping[int, DeferSite],
        active: frozenset[int],
        parts: Mapping[int, PlanNode | None],
        run_part: RunPart,
        data: dict[str, Any],
        primary: dict[str, Any] | None,
        covered: Sequence[tuple[Any, ...]],
        projector: FragmentProjection,
        root_type: str,
    ) -> None:
        self._sites = sites
        self._active = active
        self._parts = parts
        self._run_part = run_part
        self._data = data
        self._covered = list(covered)
        self._projector = projector
        self._root_type = root_type
        self._items: dict[int, list[_Item]] = {_PRIMARY: [_Item(_PRIMARY, None, [], primary, data)]}
        # site -> the sites (or _PRIMARY) its locations sit in
        self._parents: dict[int, set[int]] = {s: {self._parent(loc)[0] for loc in sites[s].locations} for s in active}

    def _parent(self, loc: Location) -> tuple[int, int]:
        """The nearest active enclosing site of ``loc`` and the path length where it sits."""
        for sid, depth in reversed(loc.ancestors):
            if sid in self._active:
                return sid, depth
        return _PRIMARY, 0

    async def payloads(self) -> AsyncIterator[dict[str, Any]]:
        """The subsequent payloads, in completion order; the last says ``hasNext: false``."""
        done: set[int] = {_PRIMARY}
        waiting = sorted(self._active)
        running: dict[asyncio.Task[ExecutionOutcome | None], int] = {}
        try:
            while waiting or running:
                for site in [s for s in waiting if self._parents[s] <= done]:
                    waiting.remove(site)
                    running[asyncio.ensure_future(self._run(site))] = site
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                items: list[_Item] = []
                for task in sorted(finished, key=lambda t: running[t]):
                    site = running.pop(task)
                    items.extend(self._deliver(site, task.result()))
                    done.add(site)
                has_next = bool(waiting or running)
                if items or not has_next:
                    yield self._payload(items, has_next)
        finally:
            for task in running:
                task.cancel()

    async def _run(self, site: int) -> ExecutionOutcome | None:
        node = self._parts.get(site)
        if node is None:
            return None
        try:
            outcome = await self._run_part(node)
        except Exception:  # a bug must not cut the response short: the part answers with an error
            logger.exception("a deferred part failed (site %s)", site)
            error = {"message": _FAILED, "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
            return ExecutionOutcome(self._data, [error], [()])  # () covers every path: one error says it all
        if outcome.data is not self._data:  # the part started from empty data and replaced it
            deep_merge(self._data, outcome.data)
        return outcome

    def _deliver(self, site: int, outcome: ExecutionOutcome | None) -> list[_Item]:
        covered = self._covered
        if outcome is not None and outcome.covered:
            covered = covered + outcome.covered
        spec = self._sites[site]
        out: list[_Item] = []
        for loc in spec.locations:
            parent, depth = self._parent(loc)
            rel = loc.path[depth:]
            for parent_item in self._items.get(parent, ()):
                parent_path = parent_item.location.path if parent_item.location is not None else ()
                if parent_item.data is None or parent_path != loc.path[:depth]:
                    continue
                for raw, path in _walk(parent_item.data, parent_item.raw, list(parent_item.path), rel):
                    if not self._projector.applies(loc.guards, spec.type_condition, raw, loc.parent_type):
                        continue
                    at_root = not loc.path
                    static = self._root_type if at_root else loc.parent_type
                    result = self._projector.project(
                        spec.selection_set, raw, static, path, covered=covered, root=at_root
                    )
                    out.append(_Item(site, loc, path, result.data, raw, result.errors))
        self._items[site] = out
        if outcome is not None and outcome.errors:
            _assign_errors(out, outcome.errors)
        return out

    def _payload(self, items: list[_Item], has_next: bool) -> dict[str, Any]:
        incremental: list[dict[str, Any]] = []
        stray: list[dict[str, Any]] = []
        for item in items:
            if item.location is None:
                stray.extend(item.errors)
                continue
            entry: dict[str, Any] = {"data": item.data, "path": item.path}
            label = self._sites[item.site].label
            if label is not None:
                entry["label"] = label
            if item.errors:
                entry["errors"] = item.errors
            incremental.append(entry)
        body: dict[str, Any] = {"hasNext": has_next}
        if incremental:
            body["incremental"] = incremental
        if stray:
            body["errors"] = stray
        return body


def _walk(
    pdata: dict[str, Any], raw: dict[str, Any], path: list[str | int], rel: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], list[str | int]]]:
    """The objects reached from a delivered object ``pdata`` along response keys ``rel`` (lists
    iterated, nulls skipped): the merged data behind each and its concrete path."""
    if not rel:
        yield raw, path
        return
    key = rel[0]
    yield from _descend(pdata.get(key), raw.get(key), [*path, key], rel[1:])


def _descend(
    pvalue: Any, rvalue: Any, path: list[str | int], rel: tuple[str, ...]
) -> Iterator[tuple[dict[str, Any], list[str | int]]]:
    if type(pvalue) is list:
        rlist = rvalue if type(rvalue) is list else []
        for i, item in enumerate(pvalue):
            yield from _descend(item, rlist[i] if i < len(rlist) else None, [*path, i], rel)
    elif type(pvalue) is dict:
        yield from _walk(pvalue, rvalue if type(rvalue) is dict else {}, path, rel)


def _assign_errors(items: list[_Item], errors: list[dict[str, Any]]) -> None:
    """Each error to the item its path falls under; an error no item claims goes to the first item
    (or, with no item at all, to the payload itself)."""
    if not items:
        items.append(_Item(_PRIMARY, None, [], None, {}))
    for err in errors:
        epath = err.get("path")
        target = items[0]
        if isinstance(epath, list):
            for item in items:
                n = len(item.path)
                if epath[:n] == item.path:
                    target = item
                    break
        target.errors.append(err)
