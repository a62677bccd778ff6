"""The composition config file (`schema/supergraph.yaml`): which subgraphs, where their SDL comes from.

```yaml
output: supergraph.graphql            # optional, relative to this file
subgraphs:
  users:
    routing_url: http://127.0.0.1:4001/graphql
    schema: { file: users.graphql }   # or { subgraph_url: http://.../graphql } (introspected via _service)
```
Unknown keys are refused so typos fail loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from router.errors import CompositionConfigError

from .subgraph_model import SubgraphSource

__all__ = ["SubgraphConfig", "SupergraphConfig", "load_config", "load_sources"]

DEFAULT_CONFIG_PATH = Path("schema/supergraph.yaml")
DEFAULT_OUTPUT = "supergraph.graphql"
DEFAULT_FETCH_TIMEOUT = 10.0
_SERVICE_QUERY = "{ _service { sdl } }"


@dataclass(frozen=True)
class SubgraphConfig:
    name: str
    routing_url: str
    file: Path | None = None
    subgraph_url: str | None = None


@dataclass(frozen=True)
class SupergraphConfig:
    path: Path
    output: Path
    subgraphs: tuple[SubgraphConfig, ...]


def _check_keys(where: str, data: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise CompositionConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(allowed))}"
        )


def load_config(path: Path) -> SupergraphConfig:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompositionConfigError(f"cannot read config {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise CompositionConfigError(f"config {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("subgraphs"), dict) or not data["subgraphs"]:
        raise CompositionConfigError(f"config {path}: expected a mapping with a non-empty `subgraphs` mapping")
    _check_keys(str(path), data, {"subgraphs", "output", "federation_version"})
    base = path.parent
    subgraphs = []
    for name, entry in data["subgraphs"].items():
        where = f"{path}: subgraphs.{name}"
        if not isinstance(entry, dict):
            raise CompositionConfigError(f"{where}: expected a mapping")
        _check_keys(where, entry, {"routing_url", "schema"})
        schema = entry.get("schema")
        if not isinstance(entry.get("routing_url"), str) or not isinstance(schema, dict):
            raise CompositionConfigError(f"{where}: needs `routing_url` (string) and `schema` (mapping)")
        _check_keys(where + ".schema", schema, {"file", "subgraph_url"})
        if ("file" in schema) == ("subgraph_url" in schema):
            raise CompositionConfigError(f"{where}.schema: give exactly one of `file` or `subgraph_url`")
        subgraphs.append(
            SubgraphConfig(
                str(name),
                entry["routing_url"],
                file=(base / str(schema["file"])) if "file" in schema else None,
                subgraph_url=str(schema["subgraph_url"]) if "subgraph_url" in schema else None,
            )
        )
    output = base / str(data.get("output") or DEFAULT_OUTPUT)
    return SupergraphConfig(path, output, tuple(subgraphs))


def load_sources(config: SupergraphConfig, client: httpx.Client | None = None) -> list[SubgraphSource]:
    """Read each subgraph's SDL from its file or, for `subgraph_url`, from `{ _service { sdl } }`."""
    sources = []
    for sub in config.subgraphs:
        if sub.file is not None:
            try:
                sdl = sub.file.read_text(encoding="utf-8")
            except OSError as exc:
                raise CompositionConfigError(
                    f"subgraph {sub.name}: cannot read {sub.file}: {exc.strerror or exc}"
                ) from exc
        else:
            assert sub.subgraph_url is not None
            sdl = _fetch_sdl(sub.name, sub.subgraph_url, client)
        sources.append(SubgraphSource(sub.name, sub.routing_url, sdl))
    return sources


def _fetch_sdl(name: str, url: str, client: httpx.Client | None) -> str:
    own = client is None
    http = client or httpx.Client(timeout=DEFAULT_FETCH_TIMEOUT)
    try:
        response = http.post(url, json={"query": _SERVICE_QUERY})
        response.raise_for_status()
        sdl = response.json()["data"]["_service"]["sdl"]
    except httpx.HTTPError as exc:
        raise CompositionConfigError(f"subgraph {name}: fetching SDL from {url} failed: {exc}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise CompositionConfigError(
            f"subgraph {name}: {url} did not answer {{ _service {{ sdl }} }} with an SDL"
        ) from exc
    finally:
        if own:
            http.close()
    if not isinstance(sdl, str):
        raise CompositionConfigError(f"subgraph {name}: {url} returned no SDL")
    return sdl
