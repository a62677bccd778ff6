"""``@cost`` / ``@listSize`` checked in each subgraph as Apollo's composer checks them (docs/router.md §5.6): the
router's cost estimate reads these numbers, so a list size on something that is not a list, a slicing argument
that does not exist or is not an ``Int``, or a sized field that is not a list of the returned type would silently
count wrong. Codes and wording are Apollo's.
"""

from __future__ import annotations

from .diagnostics import CompositionError
from .subgraph_model import FieldDef, Subgraph, TypeDef, is_list, named_type, nullable

__all__ = ["demand_errors"]


def demand_errors(sub: Subgraph) -> list[CompositionError]:
    errors: list[CompositionError] = []
    for t in sub.types.values():
        for f in t.fields.values():
            coordinate = f"{t.name}.{f.name}"
            if f.cost is not None and t.kind == "interface":
                errors.append(
                    _error(
                        sub,
                        t,
                        f,
                        "COST_APPLIED_TO_INTERFACE_FIELD",
                        f'@cost cannot be applied to interface "{coordinate}"',
                    )
                )
            if t.kind in ("object", "interface") and f.list_size is not None:
                errors += [_error(sub, t, f, code, msg) for code, msg in _list_size_problems(sub, t, f)]
    return errors


def _list_size_problems(sub: Subgraph, t: TypeDef, f: FieldDef) -> list[tuple[str, str]]:
    spec = f.list_size
    assert spec is not None
    coordinate = f"{t.name}.{f.name}"
    problems: list[tuple[str, str]] = []
    if not spec.sized_fields and not is_list(f.type):
        problems.append(("LIST_SIZE_APPLIED_TO_NON_LIST", f'"{coordinate}" is not a list'))
    if spec.assumed_size is not None and spec.assumed_size < 0:
        problems.append(("LIST_SIZE_INVALID_ASSUMED_SIZE", f'Assumed size of "{coordinate}" cannot be negative'))
    for name in spec.slicing_arguments or ():
        arg = f.args.get(name)
        if arg is None:
            problems.append(
                (
                    "LIST_SIZE_INVALID_SLICING_ARGUMENT",
                    f'Slicing argument "{name}" is not an argument of "{coordinate}"',
                )
            )
        elif nullable(arg.type) != "Int":
            problems.append(
                ("LIST_SIZE_INVALID_SLICING_ARGUMENT", f'Slicing argument "{coordinate}({name}:)" must be Int or Int!')
            )
    if spec.sized_fields:
        returned = named_type(f.type)
        target = sub.types.get(returned)
        if target is None or target.kind not in ("object", "interface", "union"):
            problems.append(
                (
                    "LIST_SIZE_INVALID_SIZED_FIELD",
                    f'Sized fields cannot be used because "{f.type}" is not a composite type',
                )
            )
            return problems
        for name in spec.sized_fields:
            sized = target.fields.get(name)
            if sized is None:
                problems.append(
                    ("LIST_SIZE_INVALID_SIZED_FIELD", f'Sized field "{name}" is not a field on type "{returned}"')
                )
            elif not is_list(sized.type):
                problems.append(("LIST_SIZE_APPLIED_TO_NON_LIST", f'Sized field "{returned}.{name}" is not a list'))
    return problems


def _error(sub: Subgraph, t: TypeDef, f: FieldDef, code: str, message: str) -> CompositionError:
    return CompositionError(code, f"[{sub.name}] {message}", sub.name, t.name, f.name)
