"""``@policy`` names evaluated by router configuration (docs/router.md §8.3).

A policy is either a small rule over the verified claims or a Python callable:

    role == ADMIN                  claim equals a value (compared as text)
    role != SERVICE                claim differs (a missing claim differs from everything)
    role in [ADMIN, SUPPORT]       claim is one of the values
    scope has payments:refund      a list claim, or a space-separated string, contains the value
    tenant.id == t1                dotted names reach into nested claims
    role == ADMIN and tenant == t1 every part must hold
    python:package.module:func     func(claims) -> bool; claims is None for an anonymous caller

A policy the schema names but the configuration does not define is denied (and logged once).
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PolicyError", "PolicyTable", "compile_policy"]

logger = logging.getLogger("router.authorization")

Claims = Mapping[str, Any] | None
Check = Callable[[Claims], bool]

_CONDITION = re.compile(r"^\s*([A-Za-z_][\w.:-]*)\s+(==|!=|in|has)\s+(.+?)\s*$")


class PolicyError(ValueError):
    """A policy rule that cannot be understood (raised when the settings are read)."""


def _claim(claims: Claims, dotted: str) -> Any:
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _condition(text: str) -> Check:
    m = _CONDITION.match(text)
    if m is None:
        raise PolicyError(f"cannot read policy condition {text!r} (expected e.g. 'role == ADMIN')")
    name, op, raw = m.groups()
    if op == "in":
        inner = raw.strip()
        if not (inner.startswith("[") and inner.endswith("]")):
            raise PolicyError(f"'in' needs a list such as [A, B], got {raw!r}")
        allowed = frozenset(_text(v) for v in inner[1:-1].split(",") if v.strip())
        return lambda claims: (v := _claim(claims, name)) is not None and str(v) in allowed
    value = _text(raw)
    if op == "==":
        return lambda claims: (v := _claim(claims, name)) is not None and str(v) == value
    if op == "!=":
        return lambda claims: (v := _claim(claims, name)) is None or str(v) != value

    def has(claims: Claims) -> bool:
        v = _claim(claims, name)
        items = v.split() if isinstance(v, str) else v if isinstance(v, list) else []
        return value in (str(x) for x in items)

    return has


def _callable(path: str) -> Check:
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise PolicyError(f"python policy must be 'python:package.module:function', got {path!r}")
    try:
        func = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise PolicyError(f"cannot load policy function {path!r}: {exc}") from None
    if not callable(func):
        raise PolicyError(f"policy {path!r} is not callable")
    return lambda claims: func(claims) is True


def compile_policy(rule: str) -> Check:
    """One configured rule as a check over claims; raises :class:`PolicyError` when malformed."""
    if rule.startswith("python:"):
        return _callable(rule[len("python:") :])
    parts = [_condition(p) for p in re.split(r"\s+and\s+", rule.strip()) if p]
    if not parts:
        raise PolicyError("empty policy rule")
    return lambda claims: all(part(claims) for part in parts)


class PolicyTable:
    """Policy name -> check, from the ``authorization.policies`` setting."""

    def __init__(self, rules: Mapping[str, str] | None = None) -> None:
        self._checks = {name: compile_policy(rule) for name, rule in (rules or {}).items()}
        self._warned: set[str] = set()

    def names(self) -> set[str]:
        return set(self._checks)

    def allows(self, name: str, claims: Claims) -> bool:
        check = self._checks.get(name)
        if check is None:
            if name not in self._warned:
                self._warned.add(name)
                logger.warning("policy %r is used by the schema but not configured: denied", name)
            return False
        try:
            return check(claims)
        except Exception:  # a failing policy function denies; the reason goes to the log
            logger.exception("policy %r failed: denied", name)
            return False
