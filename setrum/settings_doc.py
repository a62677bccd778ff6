"""The configuration reference in the README, generated from the settings classes.

``python -m setrum.settings_doc`` prints the Markdown table; ``--write`` replaces the block
between the markers in README.md. A test fails when the README and the classes disagree, so
every variable is documented with its real default.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["SERVICES", "environment_variables", "render_markdown", "main"]

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"

# service -> "module:SettingsClass"
SERVICES: dict[str, str] = {
    "router": "router.settings:RouterSettings",
    "users": "subgraphs.users.settings:UsersSettings",
    "master": "subgraphs.master.settings:MasterSettings",
    "transactions": "subgraphs.transactions.settings:TransactionsSettings",
    "biller": "biller.settings:BillerSettings",
    "payments": "payments.settings:PaymentsSettings",
}


def _load(ref: str) -> type[BaseModel]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _env_name(prefix: str, name: str, info: FieldInfo) -> str:
    alias = info.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return str(choices[0])
    if isinstance(alias, str):
        return alias
    return f"{prefix}{name}".upper()


def _default(info: FieldInfo) -> str:
    if info.default_factory is None and info.default is PydanticUndefined:
        return "(required)"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, SecretStr):
        return "development value (refused in production)"
    if isinstance(value, BaseModel):
        return ""
    if value is None:
        return "unset"
    if isinstance(value, (list, tuple, dict)) and not value:
        return "empty"
    if isinstance(value, list) and all(isinstance(item, BaseModel) for item in value):
        return f"`{json.dumps([item.model_dump(mode='json') for item in value])}`"  # as the variable takes it
    return f"`{value}`"


def environment_variables(settings_class: type[BaseModel]) -> Iterator[tuple[str, str, str]]:
    """(variable, default, description) for every field, nested models flattened with ``__``."""
    prefix = str(settings_class.model_config.get("env_prefix", ""))
    delimiter = str(settings_class.model_config.get("env_nested_delimiter") or "__")

    def walk(model: type[BaseModel], env_prefix: str, top: bool) -> Iterator[tuple[str, str, str]]:
        for name, info in model.model_fields.items():
            annotation = info.annotation
            env = _env_name(env_prefix, name, info) if top else f"{env_prefix}{name}".upper()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                yield from walk(annotation, f"{env}{delimiter}", False)
                continue
            yield env, _default(info), (info.description or "").replace("|", "\\|")

    yield from walk(settings_class, prefix, True)


def render_markdown() -> str:
    lines = [BEGIN]
    seen: set[str] = set()
    for service, ref in SERVICES.items():
        lines += [
            "",
            f"**{service}** (`{ref.replace(':', '.')}`)",
            "",
            "| variable | default | notes |",
            "|---|---|---|",
        ]
        for env, default, description in environment_variables(_load(ref)):
            shared = env.startswith("SETRUM_")
            if shared and env in seen:
                continue
            seen.add(env)
            lines.append(f"| `{env}` | {default} | {description}{' (shared by all services)' if shared else ''} |")
    lines += ["", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m setrum.settings_doc")
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args(argv)
    table = render_markdown()
    if not args.write:
        print(table)
        return 0
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        print("README.md has no settings markers", file=sys.stderr)
        return 1
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    readme.write_text(head + table + tail)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
