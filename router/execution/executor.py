"""Run a QueryPlan against the subgraphs and build the merged (not yet projected) data tree.

docs/router.md §4.1 Running a plan to §4.5 Errors: Sequence runs in order, Parallel with ``asyncio.gather``,
Condition reads a boolean variable, Flatten runs an entity (or re-entry) fetch at every object
its path reaches. Entity representations are de-duplicated so N objects pointing at the same
entity cost one representation, and each ``_entities`` item is merged into every object that
produced it. Subgraph errors are re-pathed to client paths; a failed subgraph yields one
``SUBGRAPH_FETCH_FAILED`` error and the rest of the plan still runs (partial data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationDefinitionNode, parse

from router.planning.query_plan import (
    ConditionNode,
    FetchNode,
    FlattenNode,
    ParallelNode,
    PlanNode,
    QueryPlan,
    SequenceNode,
)
from router.subgraph_client import SubgraphClient, SubgraphFetchError

from .contexts import aliased_operation, group_by_context, rename_group_errors
from .deep_merge import deep_merge
from .paths import (
    PossibleTypes,
    RepresentationBuilder,
    apply_rewrites,
    collect_objects,
    collect_objects_with_paths,
)

__all__ = ["DOWNSTREAM_ERROR_CODE", "ExecutionOutcome", "FETCH_FAILED_CODE", "execute_plan"]

FETCH_FAILED_CODE = "SUBGRAPH_FETCH_FAILED"
DOWNSTREAM_ERROR_CODE = "DOWNSTREAM_SERVICE_ERROR"
_REDACTED = "Subgraph errors redacted"
_EMPTY_HEADERS: Mapping[str, str] = {}


@dataclass(slots=True)
class ExecutionOutcome:
    """Merged data plus the errors raised while fetching.

    ``covered`` holds response paths already explained by an error (subgraph errors and the
    regions a failed fetch should have filled); the projection does not add a second
    "Cannot return null" error under them.
    """

    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    covered: list[tuple[str | int, ...]] = field(default_factory=list)


class _Run:
    __slots__ = ("client", "variables", "conditions", "headers", "possible", "include_errors", "out")

    def __init__(
        self,
        client: SubgraphClient,
        variables: Mapping[str, Any],
        conditions: Mapping[str, Any],
        headers: Mapping[str, str],
        possible: PossibleTypes,
        include_errors: bool,
    ) -> None:
        self.client = client
        self.variables = variables
        self.conditions = conditions
        self.headers = headers
        self.possible = possible
        self.include_errors = include_errors
        self.out = ExecutionOutcome(data={})

    async def run(self, node: PlanNode) -> None:
        if type(node) is FetchNode:
            if node.requires:
                await self.entity_fetch(_ROOT_PATHS, node)
            else:
                await self.root_fetch(_ROOT_PATHS, node)
        elif type(node) is FlattenNode:
            inner = node.node
            path = node.paths or (node.path,)
            if type(inner) is FetchNode:
                if inner.requires:
                    await self.entity_fetch(path, inner)
                else:
                    await self.root_fetch(path, inner)
            else:  # unusual, but harmless: run the inner node as is
                await self.run(inner)
        elif type(node) is SequenceNode:
            for child in node.nodes:
                await self.run(child)
        elif type(node) is ParallelNode:
            nodes = node.nodes
            if len(nodes) == 1:
                await self.run(nodes[0])
            else:
                await asyncio.gather(*[self.run(child) for child in nodes])
        elif type(node) is ConditionNode:
            branch = node.if_clause if self.conditions.get(node.condition) else node.else_clause
            if branch is not None:
                await self.run(branch)

    # -- request building -------------------------------------------------------------

    def _body(self, fetch: FetchNode, representations: list[Any] | None) -> dict[str, Any]:
        variables: dict[str, Any] = {}
        if fetch.variable_usages:
            source = self.variables
            for name in fetch.variable_usages:
                if name in source:
                    variables[name] = source[name]
        if representations is not None:
            variables["representations"] = representations
        body: dict[str, Any] = {"query": fetch.operation, "variables": variables}
        if fetch.operation_name:
            body["operationName"] = fetch.operation_name
        return body

    async def _send(self, fetch: FetchNode, body: dict[str, Any]) -> dict[str, Any] | None:
        try:
            return await self.client.fetch(fetch.service_name, body, self.headers)
        except SubgraphFetchError as exc:
            self.out.errors.append(
                {
                    "message": f"HTTP fetch failed from '{fetch.service_name}': {exc.reason}",
                    "extensions": {"code": FETCH_FAILED_CODE, "serviceName": fetch.service_name},
                }
            )
            return None

    def _error(self, err: Any, path: list[str | int] | None, service: str) -> dict[str, Any]:
        if not isinstance(err, dict):
            err = {"message": str(err)}
        if self.include_errors:
            out: dict[str, Any] = {"message": err.get("message", "Unknown subgraph error")}
            ext = err.get("extensions")
            ext = dict(ext) if isinstance(ext, dict) else {}
        else:
            out = {"message": _REDACTED}
            ext = {}
        if path is not None:
            out["path"] = path
            self.out.covered.append(tuple(path))
        ext.setdefault("code", DOWNSTREAM_ERROR_CODE)  # as Apollo Gateway does for code-less errors
        ext["serviceName"] = service
        out["extensions"] = ext
        return out

    # -- root fetch -----------------------------------------------------------------

    def _collect(self, paths: tuple[tuple[str, ...], ...]) -> list[dict[str, Any]]:
        if len(paths) == 1:
            return collect_objects(self.out.data, paths[0], self.possible)
        out: list[dict[str, Any]] = []
        for path in paths:
            out.extend(collect_objects(self.out.data, path, self.possible))
        return out

    def _collect_with_paths(self, paths: tuple[tuple[str, ...], ...]) -> list[tuple[dict[str, Any], list[str | int]]]:
        out: list[tuple[dict[str, Any], list[str | int]]] = []
        for path in paths:
            out.extend(collect_objects_with_paths(self.out.data, path, self.possible))
        return out

    async def root_fetch(self, paths: tuple[tuple[str, ...], ...], fetch: FetchNode) -> None:
        at_root = paths == _ROOT_PATHS
        if not at_root:
            targets = self._collect(paths)
            if not targets:
                return
        response = await self._send(fetch, self._body(fetch, None))
        if response is None:
            self._cover_root(paths, fetch)
            return
        data = response.get("data")
        errors = response.get("errors")
        prefix: list[str | int] = []
        if errors and not at_root:
            located = self._collect_with_paths(paths)
            prefix = located[0][1] if located else []
        if errors:
            pathless = False
            for err in errors:
                epath = err.get("path") if isinstance(err, dict) else None
                if isinstance(epath, list):
                    self.out.errors.append(self._error(err, [*prefix, *epath], fetch.service_name))
                else:
                    pathless = True
                    self.out.errors.append(self._error(err, None, fetch.service_name))
            if pathless:
                self._cover_root(paths, fetch)
        if type(data) is not dict:
            return
        if fetch.output_rewrites:
            apply_rewrites(data, fetch.output_rewrites, self.possible)
        if at_root:
            if self.out.data:
                deep_merge(self.out.data, data)
            else:
                self.out.data = data
        else:
            for target in targets:
                deep_merge(target, data)

    def _cover_root(self, paths: tuple[tuple[str, ...], ...], fetch: FetchNode) -> None:
        prefixes: list[list[str | int]] = [[]]
        if paths != _ROOT_PATHS:
            prefixes = [p for _, p in self._collect_with_paths(paths)]
        for key in _root_keys(fetch.operation):
            for p in prefixes:
                self.out.covered.append((*p, key))

    # -- entity fetch ---------------------------------------------------------------

    async def entity_fetch(self, path: tuple[tuple[str, ...], ...], fetch: FetchNode) -> None:
        """Representations of the entities at ``path`` (de-duplicated), one ``_entities`` request,
        and each returned item merged into every entity that produced its representation
        (docs/router.md §4.3 Representations, §4.4 Merging _entities)."""
        if fetch.context_values:
            reps, owners, body, offsets = self._context_request(path, fetch)
        else:
            objects = self._collect(path)
            if not objects:
                return
            reps, owners = self._representations(objects, fetch)
            body, offsets = self._body(fetch, reps), []
        if not reps:
            return
        response = await self._send(fetch, body)
        if response is None:
            self._cover_entities(path, owners, range(len(owners)))
            return
        data = response.get("data")
        errors = response.get("errors")
        if len(offsets) > 1:  # one aliased _entities per group of context values
            errors = rename_group_errors(errors, offsets)
            if type(data) is dict:
                parts = [data.get(f"_{i}") for i in range(len(offsets))]
                lists = [x for x in parts if type(x) is list]
                data = {"_entities": [item for x in lists for item in x]} if len(lists) == len(parts) else {}
        if errors:
            self._entity_errors(path, owners, errors, fetch.service_name)
        entities = data.get("_entities") if type(data) is dict else None
        problem = self._entities_problem(entities, len(reps), fetch.service_name, bool(errors))
        if problem is not None:
            if problem:
                self.out.errors.append(problem)
            self._cover_entities(path, owners, range(len(owners)))
            return
        assert type(entities) is list
        output_rewrites = fetch.output_rewrites
        for i, item in enumerate(entities):
            if type(item) is not dict:
                continue  # null entity: its fields stay missing and null-propagate in projection
            if output_rewrites:
                apply_rewrites(item, output_rewrites, self.possible)
            for obj in owners[i]:
                deep_merge(obj, item)

    def _context_request(
        self, path: tuple[tuple[str, ...], ...], fetch: FetchNode
    ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]], dict[str, Any], list[int]]:
        """Representations grouped by their ancestors' context values (docs/router.md §3.16): the body sends
        one ``_entities`` per group (aliased when there are several); ``offsets``: each group's first index."""
        reps: list[dict[str, Any]] = []
        owners: list[list[dict[str, Any]]] = []
        offsets: list[int] = []
        group_vars: list[tuple[Any, ...]] = []
        for values, objects in group_by_context(self.out.data, path, fetch.context_values, self.possible):
            r, o = self._representations(objects, fetch)
            if not r:
                continue
            offsets.append(len(reps))
            group_vars.append(values)
            reps += r
            owners += o
        names = tuple(c.variable for c in fetch.context_values)
        if len(offsets) <= 1:
            body = self._body(fetch, reps)
            body["variables"].update(zip(names, group_vars[0] if group_vars else (), strict=False))
            return reps, owners, body, offsets
        body = self._body(fetch, None)
        body["query"] = aliased_operation(fetch.operation, len(offsets), names)
        variables = body["variables"]
        bounds = [*offsets, len(reps)]
        for i, values in enumerate(group_vars):
            variables[f"representations_{i}"] = reps[bounds[i] : bounds[i + 1]]
            variables.update({f"{n}_{i}": v for n, v in zip(names, values, strict=True)})
        return reps, owners, body, offsets

    def _representations(
        self, objects: list[dict[str, Any]], fetch: FetchNode
    ) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
        """(representations, the entities behind each); an entity missing its key or a required
        field is skipped (an earlier fetch failed)."""
        possible = self.possible
        build = _builder(fetch, possible).build
        input_rewrites = fetch.input_rewrites
        reps: list[dict[str, Any]] = []
        owners: list[list[dict[str, Any]]] = []
        index: dict[Any, int] = {}
        for obj in objects:
            built = build(obj)
            if built is None:
                continue
            rep, k = built
            if input_rewrites:
                apply_rewrites(rep, input_rewrites, possible)
            i = index.get(k)
            if i is None:
                index[k] = len(reps)
                reps.append(rep)
                owners.append([obj])
            else:
                owners[i].append(obj)
        return reps, owners

    @staticmethod
    def _entities_problem(entities: Any, expected: int, service: str, had_errors: bool) -> dict[str, Any] | None:
        """``None`` when ``_entities`` can be merged; else the error to report (``{}`` when the
        subgraph's own errors already explain it)."""
        if entities is None:
            if had_errors:
                return {}
            return {
                "message": f"Subgraph '{service}' returned no _entities",
                "extensions": {"code": FETCH_FAILED_CODE, "serviceName": service},
            }
        if type(entities) is not list or len(entities) != expected:
            got = len(entities) if type(entities) is list else "invalid"
            return {
                "message": f"Subgraph '{service}' returned {got} _entities for {expected} representations",
                "extensions": {"code": FETCH_FAILED_CODE, "serviceName": service},
            }
        return None

    def _paths_by_object(self, paths: tuple[tuple[str, ...], ...]) -> dict[int, list[list[str | int]]]:
        by_id: dict[int, list[list[str | int]]] = {}
        for obj, p in self._collect_with_paths(paths):
            by_id.setdefault(id(obj), []).append(p)
        return by_id

    def _client_paths(
        self, by_id: dict[int, list[list[str | int]]], owners: list[dict[str, Any]]
    ) -> list[list[str | int]]:
        seen: set[int] = set()
        paths: list[list[str | int]] = []
        for obj in owners:
            oid = id(obj)
            if oid in seen:
                continue
            seen.add(oid)
            paths.extend(by_id.get(oid, ()))
        return paths

    def _cover_entities(
        self, path: tuple[tuple[str, ...], ...], owners: list[list[dict[str, Any]]], indices: Any
    ) -> None:
        by_id = self._paths_by_object(path)
        for i in indices:
            for p in self._client_paths(by_id, owners[i]):
                self.out.covered.append(tuple(p))

    def _entity_errors(
        self, path: tuple[tuple[str, ...], ...], owners: list[list[dict[str, Any]]], errors: list[Any], service: str
    ) -> None:
        by_id = self._paths_by_object(path)
        for err in errors:
            epath = err.get("path") if isinstance(err, dict) else None
            if (
                isinstance(epath, list)
                and len(epath) >= 2
                and epath[0] == "_entities"
                and isinstance(epath[1], int)
                and 0 <= epath[1] < len(owners)
            ):
                rest = epath[2:]
                client_paths = self._client_paths(by_id, owners[epath[1]])
                if not client_paths:
                    self.out.errors.append(self._error(err, None, service))
                for p in client_paths:
                    self.out.errors.append(self._error(err, [*p, *rest], service))
            else:
                self.out.errors.append(self._error(err, None, service))
                self._cover_entities(path, owners, range(len(owners)))


_ROOT_PATHS: tuple[tuple[str, ...], ...] = ((),)
# Representation builders per (plan fetch, possible types): the compiled ``requires`` is per plan, not
# per request. Keyed by identity (hashing a FetchNode would walk its selections); the entry keeps the
# node alive so its id cannot be reused while cached.
_BUILDERS: dict[tuple[int, int], tuple[FetchNode, PossibleTypes, RepresentationBuilder]] = {}
_MAX_BUILDERS = 4096


def _builder(fetch: FetchNode, possible: PossibleTypes) -> RepresentationBuilder:
    key = (id(fetch), id(possible))
    entry = _BUILDERS.get(key)
    if entry is not None and entry[0] is fetch and entry[1] is possible:
        return entry[2]
    builder = RepresentationBuilder(fetch.requires, possible)
    if len(_BUILDERS) >= _MAX_BUILDERS:
        _BUILDERS.clear()  # plans were replaced (reload) or evicted: start over
    _BUILDERS[key] = (fetch, possible, builder)
    return builder


_ROOT_KEYS: dict[str, tuple[str, ...]] = {}


def _root_keys(operation: str) -> tuple[str, ...]:
    """Top-level response keys of a subgraph operation (only needed on failures; memoised)."""
    keys = _ROOT_KEYS.get(operation)
    if keys is None:
        try:
            doc = parse(operation, no_location=True)
            found: list[str] = []
            for definition in doc.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    for sel in definition.selection_set.selections:
                        alias = getattr(sel, "alias", None)
                        name = getattr(sel, "name", None)
                        if alias is not None:
                            found.append(alias.value)
                        elif name is not None:
                            found.append(name.value)
            keys = tuple(found)
        except Exception:  # a malformed plan operation: nothing to cover
            keys = ()
        if len(_ROOT_KEYS) < 4096:
            _ROOT_KEYS[operation] = keys
    return keys


async def execute_plan(
    plan: QueryPlan,
    *,
    client: SubgraphClient,
    variables: Mapping[str, Any] | None = None,
    conditions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    possible_types: PossibleTypes | None = None,
    include_subgraph_errors: bool = True,
    data: dict[str, Any] | None = None,
) -> ExecutionOutcome:
    """Run ``plan``. ``variables`` are the client's raw values (forwarded to subgraphs as
    sent), ``conditions`` the coerced values used for Condition nodes (defaults applied).
    ``data``: merged data to continue from (a deferred part runs over the primary's)."""
    variables = variables or {}
    run = _Run(
        client,
        variables,
        conditions if conditions is not None else variables,
        headers or _EMPTY_HEADERS,
        possible_types or {},
        include_subgraph_errors,
    )
    if data is not None:
        run.out.data = data
    if plan.node is not None:
        await run.run(plan.node)
    return run.out
