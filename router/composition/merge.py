"""Merge validated subgraphs into one supergraph model (docs/router.md §5.3 Merge rules) and run the post-merge checks.

Objects/interfaces/unions take the union of fields, implementations and members; arguments and input
fields take the intersection; enums merge by usage. Every rule reports through `CompositionError`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from graphql import print_ast
from graphql.language import EnumValueNode, ListValueNode, ObjectValueNode

from .demand import merge_demand
from .diagnostics import CompositionError, CompositionHint
from .subgraph_model import FieldDef, Subgraph, TypeDef, is_non_null, named_type
from .supergraph_model import (
    ComposedSupergraph,
    Graph,
    MArgument,
    MEnumValue,
    MField,
    MType,
)
from .validate_subgraph import field_used, used_coords

__all__ = ["graph_enum_names", "merge"]


def graph_enum_names(names: Sequence[str]) -> dict[str, str]:
    """join__Graph value per subgraph name: upper-cased, non-alphanumerics to `_`, made unique."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Z0-9_]", "_", name.upper())
        if not base or base[0].isdigit():
            base = "_" + base
        enum, n = base, 1
        while enum in taken:
            enum, n = f"{base}_{n}", n + 1
        taken.add(enum)
        out[name] = enum
    return out


def _union(groups: Iterable[Iterable[str]]) -> list[str]:
    """Every name of every group once, in first-seen order: merged lists keep the subgraphs' order."""
    return list(dict.fromkeys(name for group in groups for name in group))


def _merge_meta(
    target: Any, sources: Iterable[Any], first_wins: tuple[str, ...] = ("description", "deprecated")
) -> None:
    """Fold the per-subgraph metadata of one element into its merged form.

    The `first_wins` attributes (description, deprecation reason; `specified_by` on types) come from the first
    subgraph that sets them; one @inaccessible hides the element everywhere; @tag values and printed
    @composeDirective applications add up, each once, in subgraph order; @cost/@listSize merge per argument.
    """
    sources = list(sources)
    for source in sources:
        for attr in first_wins:
            setattr(target, attr, getattr(target, attr) or getattr(source, attr))
        target.inaccessible = target.inaccessible or source.inaccessible
        for tag in source.tags:
            if tag not in target.tags:
                target.tags.append(tag)
        target.applied += [x for x in source.applied if x not in target.applied]
        access = getattr(source, "access", None)
        if access is not None:  # authorization requirements add up (AND) across subgraphs
            target.access = access.both(target.access)
    merge_demand(target, sources)


def _quote(names: Sequence[str]) -> str:
    return _and([f'"{n}"' for n in names])


def _subgraphs(names: Sequence[str]) -> str:
    """`subgraph "a"` / `subgraphs "a" and "c"`, Apollo's wording."""
    return f"subgraph{'s' if len(names) > 1 else ''} {_quote(names)}"


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


class _Merger:
    def __init__(self, subgraphs: Sequence[Subgraph]) -> None:
        self.subs = {s.name: s for s in subgraphs}
        self.order = [s.name for s in subgraphs]
        self.errors: list[CompositionError] = []
        self.hints: list[CompositionHint] = []
        self.types: dict[str, MType] = {}
        self.subtype_pairs: set[tuple[str, str]] = set()

    def error(self, code: str, msg: str, sub: str | None = None, t: str | None = None, f: str | None = None) -> None:
        self.errors.append(CompositionError(code, msg, sub, t, f))

    def hint(self, code: str, msg: str, sub: str | None = None, t: str | None = None, f: str | None = None) -> None:
        self.hints.append(CompositionHint(code, msg, sub, t, f))

    # -- driver ----------------------------------------------------------------------------------
    def run(self) -> ComposedSupergraph:
        valid = self._types_of_one_kind()
        self._subtyping(valid)
        usage = self._enum_usage()
        for n, sources in valid.items():
            self.types[n] = self._merge_type(n, sources, usage)
        self._interface_objects()
        self._interface_access()
        roots = {
            op: name
            for op, name in (("query", "Query"), ("mutation", "Mutation"), ("subscription", "Subscription"))
            if name in self.types and any(op in s.roots for s in self.subs.values())
        }
        enums = graph_enum_names(self.order)
        sg = ComposedSupergraph(
            [Graph(g, enums[g], self.subs[g].url) for g in self.order], self.subs, self.types, roots
        )
        self._composed_directives(sg)
        self._post_checks()
        return sg

    def _types_of_one_kind(self) -> dict[str, dict[str, TypeDef]]:
        """type name -> its definition per subgraph, for types every subgraph defines with the same
        kind (an interface object counts as an interface); TYPE_KIND_MISMATCH for the others."""
        names = _union(self.subs[g].types for g in self.order)
        by_name: dict[str, dict[str, TypeDef]] = {
            n: {g: self.subs[g].types[n] for g in self.order if n in self.subs[g].types} for n in names
        }
        valid: dict[str, dict[str, TypeDef]] = {}
        for n, sources in by_name.items():
            kinds = {g: ("interface" if t.interface_object else t.kind) for g, t in sources.items()}
            if len(set(kinds.values())) > 1:
                desc = "; ".join(f'{k} in subgraph "{g}"' for g, k in kinds.items())
                self.error(
                    "TYPE_KIND_MISMATCH",
                    f'Type "{n}" has mismatched kind: it is defined as {desc}',
                    next(iter(sources)),
                    n,
                )
                continue
            valid[n] = sources
        return valid

    def _subtyping(self, valid: dict[str, dict[str, TypeDef]]) -> None:
        """Subtyping facts first: output field types may differ by subtype (O <: I, M <: U)."""
        for n, sources in valid.items():
            for t in sources.values():
                for i in t.interfaces:
                    self.subtype_pairs.add((n, i))
                for m in t.members:
                    self.subtype_pairs.add((m, n))
        changed = True
        while changed:  # transitive closure (interfaces implementing interfaces)
            changed = False
            for a, b in list(self.subtype_pairs):
                for c, d in list(self.subtype_pairs):
                    if b == c and (a, d) not in self.subtype_pairs:
                        self.subtype_pairs.add((a, d))
                        changed = True

    def _merge_type(self, n: str, sources: dict[str, TypeDef], usage: dict[str, set[str]]) -> MType:
        kind = "interface" if any(t.interface_object for t in sources.values()) else next(iter(sources.values())).kind
        mt = MType(n, kind, dict(sources))
        _merge_meta(mt, sources.values(), first_wins=("description", "specified_by"))
        mt.contexts = [f"{g}__{c}" for g, t in sources.items() for c in t.contexts]
        if kind in ("object", "interface"):
            self._merge_composite(mt)
        elif kind == "union":
            for g, t in sources.items():
                for m in t.members:
                    mt.member_sources.append((g, m))
                    if m not in mt.members:
                        mt.members.append(m)
        elif kind == "enum":
            self._merge_enum(mt, usage.get(n, set()))
        elif kind == "input":
            self._merge_input(mt)
        return mt

    def _composed_directives(self, sg: ComposedSupergraph) -> None:
        """@composeDirective directives: one definition across subgraphs."""
        for g in self.order:
            for name, entry in self.subs[g].compose_directives.items():
                known = sg.composed.setdefault(name, entry)
                if known[0] != entry[0]:
                    self.error(
                        "DIRECTIVE_COMPOSITION_ERROR",
                        f'Composed directive "@{name}" has different definitions across subgraphs',
                        g,
                    )

    # -- objects and interfaces ------------------------------------------------------------------
    def _merge_composite(self, mt: MType) -> None:
        for g, t in mt.sources.items():
            for i in t.interfaces:
                mt.implements.append((g, i))
                if i not in mt.interfaces:
                    mt.interfaces.append(i)
        fnames = _union(t.fields for t in mt.sources.values())
        for fn in fnames:
            sources = {g: t.fields[fn] for g, t in mt.sources.items() if fn in t.fields}
            mf = MField(fn, "")
            mf.sources = sources
            self._apply_override(mt, mf)
            self._check_sharing(mt, mf)
            self._merge_output_type(mt, mf)
            self._merge_args(mt, mf)
            self._check_external_args(mt, mf)
            _merge_meta(mf, sources.values())
            mt.fields[fn] = mf

    def _apply_override(self, mt: MType, mf: MField) -> None:
        for g, f in mf.sources.items():
            if f.override is None or f.override == g:
                continue
            src = f.override
            if src not in self.subs:
                self.hint(
                    "FROM_SUBGRAPH_DOES_NOT_EXIST",
                    f'Source subgraph "{src}" for field "{mt.name}.{mf.name}" on subgraph "{g}" does not exist',
                    g,
                    mt.name,
                    mf.name,
                )
                continue
            other = mf.sources.get(src)
            if other is None:
                self.hint(
                    "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                    f'Field "{mt.name}.{mf.name}" on subgraph "{g}" overrides subgraph "{src}", which does not '
                    "define it; the @override can be removed",
                    g,
                    mt.name,
                    mf.name,
                )
                continue
            if other.override is not None:
                self.error(
                    "OVERRIDE_SOURCE_HAS_OVERRIDE",
                    f'Field "{mt.name}.{mf.name}" on subgraph "{g}" is @override(from: "{src}"), but the field '
                    f'in subgraph "{src}" is itself marked @override; a field cannot be overridden in a chain',
                    g,
                    mt.name,
                    mf.name,
                )
                continue
            if other.requires is not None or other.provides is not None:
                which = "@requires" if other.requires is not None else "@provides"
                self.error(
                    "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE",
                    f'Field "{mt.name}.{mf.name}" on subgraph "{g}" overrides the field in subgraph "{src}", '
                    f"which uses {which}; a field with {which} cannot be overridden",
                    g,
                    mt.name,
                    mf.name,
                )
                continue
            if other.external:
                self.hint(
                    "OVERRIDE_DIRECTIVE_CAN_BE_REMOVED",
                    f'Field "{mt.name}.{mf.name}" on subgraph "{g}" overrides subgraph "{src}", where the field '
                    "is @external; the @override has no effect",
                    g,
                    mt.name,
                    mf.name,
                )
                continue
            if f.override_label is not None:
                continue  # progressive override: both graphs keep resolving it
            other.overridden = True
            s = self.subs[src]
            other.used_overridden = field_used(s, mt.sources[src], mf.name, used_coords(s))
            if not other.used_overridden:
                self.hint(
                    "OVERRIDDEN_FIELD_CAN_BE_REMOVED",
                    f'Field "{mt.name}.{mf.name}" on subgraph "{src}" is overridden by subgraph "{g}"; '
                    "it can be removed",
                    src,
                    mt.name,
                    mf.name,
                )

    def _resolving(self, type_name: str, mf: MField) -> list[str]:
        """Graphs that really resolve the field (external-but-provided counts; overridden does not)."""
        labelled_from = {f.override for f in mf.sources.values() if f.override_label is not None}
        out = []
        for g, f in mf.sources.items():
            if f.overridden or g in labelled_from:
                continue
            if f.external and (type_name, mf.name) not in self.subs[g].provided_coords:
                continue
            out.append(g)
        return out

    def _shareable_in(self, g: str, coord: tuple[str, str], f: FieldDef) -> bool:
        """@shareable (field, or the type definition declaring it), a key field, or an external field g provides."""
        s = self.subs[g]
        return f.shareable or coord in s.key_field_coords or coord in s.provided_coords

    def _check_sharing(self, mt: MType, mf: MField) -> None:
        if mt.kind == "interface":
            return  # interface fields are not resolved; implementations and interface objects are checked
        coord = (mt.name, mf.name)
        if mt.name == "Subscription":
            for g, f in mf.sources.items():
                if self.subs[g].fed2 and f.shareable:
                    self.error(
                        "INVALID_FIELD_SHARING",
                        "Fields on root level subscription object cannot be marked as shareable: "
                        f'"{mt.name}.{mf.name}"',
                        g,
                        mt.name,
                        mf.name,
                    )
                    return
        entries = [(g, "", self._shareable_in(g, coord, mf.sources[g])) for g in self._resolving(mt.name, mf)]
        self._report_sharing(mt.name, mf.name, entries)

    def _report_sharing(self, type_name: str, fname: str, entries: list[tuple[str, str, bool]]) -> None:
        """INVALID_FIELD_SHARING when several graphs resolve a field and one is not shareable there. `entries`:
        (graph, how it resolves the field: "" or "through @interfaceObject ...", shareable there)."""
        if len(entries) < 2:
            return
        bad = [(g, f'"{g}"{how}') for g, how, ok in entries if not ok]
        if not bad:
            return
        resolving = [f'"{g}"{how}' for g, how, _ in entries]
        self.error(
            "INVALID_FIELD_SHARING",
            f'Non-shareable field "{type_name}.{fname}" is resolved from multiple subgraphs: it is resolved from '
            f"subgraphs {_and(resolving)} and defined as non-shareable in subgraph{'s' if len(bad) > 1 else ''} "
            f"{_and([label for _, label in bad])}; mark it @shareable in every subgraph that resolves it "
            "(or use @override/@external)",
            bad[0][0],
            type_name,
            fname,
        )

    def _is_subtype(self, sub: str, sup: str) -> bool:
        if sup.endswith("!"):
            return sub.endswith("!") and self._is_subtype(sub[:-1], sup[:-1])
        sub = sub[:-1] if sub.endswith("!") else sub
        if sup.startswith("["):
            return sub.startswith("[") and self._is_subtype(sub[1:-1], sup[1:-1])
        if sub.startswith("["):
            return False
        return sub == sup or (sub, sup) in self.subtype_pairs

    def _merge_output_type(self, mt: MType, mf: MField) -> None:
        internal = {g: f for g, f in mf.sources.items() if not f.external}
        owned = bool(internal)
        if not internal:
            # also when every source is an @interfaceObject: an implementation's own field does not count there
            self.error(
                "EXTERNAL_MISSING_ON_BASE",
                f'Field "{mt.name}.{mf.name}" is marked @external in {_quote(list(mf.sources))} but is not '
                "defined (non-external) in any subgraph; some subgraph must resolve it",
                next(iter(mf.sources)),
                mt.name,
                mf.name,
            )
            internal = dict(mf.sources)
        types = list(dict.fromkeys(f.type for f in internal.values()))
        sup = next((c for c in types if all(self._is_subtype(o, c) for o in types)), None)
        if sup is None:
            desc = "; ".join(f'type "{f.type}" in subgraph "{g}"' for g, f in internal.items())
            self.error(
                "FIELD_TYPE_MISMATCH",
                f'Type of field "{mt.name}.{mf.name}" is incompatible across subgraphs: it has {desc}',
                next(iter(internal)),
                mt.name,
                mf.name,
            )
            sup = types[0]
        mf.type = sup
        for g, f in mf.sources.items():
            if f.external and not self._external_type_ok(f.type, sup, owned, len(types) > 1):
                self.error(
                    "EXTERNAL_TYPE_MISMATCH",
                    f'Type of external field "{mt.name}.{mf.name}" in subgraph "{g}" is "{f.type}", '
                    f'incompatible with "{sup}" where it is defined',
                    g,
                    mt.name,
                    mf.name,
                )

    def _external_type_ok(self, ext: str, sup: str, owned: bool, owners_differ: bool) -> bool:
        """Apollo's rule, as its composer decides (recorded in test_errors.py): an external field has the type the
        owning graphs give it (Int for Int, not Int! nor a list of another nullability); only when the owners
        themselves differ (Int! in one, Int in another) may it be any subtype of the merged type. Where no graph
        owns the field (interface objects) only the named type must match."""
        if not owned:
            return named_type(ext) == named_type(sup)
        return ext == sup or (owners_differ and self._is_subtype(ext, sup))

    def _merge_args(self, mt: MType, mf: MField) -> None:
        internal = {g: f for g, f in mf.sources.items() if not f.external} or dict(mf.sources)
        names = _union(f.args for f in internal.values())
        for an in names:
            present = {g: f.args[an] for g, f in internal.items() if an in f.args}
            missing = [g for g in internal if g not in present]
            if missing:
                required = [g for g, a in present.items() if is_non_null(a.type) and a.default is None]
                if required:
                    self.error(
                        "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH",
                        f'Argument "{mt.name}.{mf.name}({an}:)" is required in '
                        f"subgraph{'s' if len(required) > 1 else ''} {_quote(required)} "
                        f"but missing in subgraph{'s' if len(missing) > 1 else ''} "
                        f"{_quote(missing)}; arguments are merged by intersection, so a required one must be "
                        "everywhere",
                        missing[0],
                        mt.name,
                        mf.name,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_ARGUMENT_PRESENCE",
                        f'Optional argument "{mt.name}.{mf.name}({an}:)" is missing in {_quote(missing)} and is '
                        "not part of the supergraph",
                        missing[0],
                        mt.name,
                        mf.name,
                    )
                continue
            merged = _merge_input_types([a.type for a in present.values()])
            if merged is None:
                desc = "; ".join(f'"{a.type}" in subgraph "{g}"' for g, a in present.items())
                self.error(
                    "FIELD_ARGUMENT_TYPE_MISMATCH",
                    f'Type of argument "{mt.name}.{mf.name}({an}:)" is incompatible across subgraphs: {desc}',
                    next(iter(present)),
                    mt.name,
                    mf.name,
                )
                continue
            defaults = {g: print_ast(a.default) for g, a in present.items() if a.default is not None}
            if len(set(defaults.values())) > 1:
                desc = "; ".join(f'{v} in subgraph "{g}"' for g, v in defaults.items())
                self.error(
                    "FIELD_ARGUMENT_DEFAULT_MISMATCH",
                    f'Argument "{mt.name}.{mf.name}({an}:)" has incompatible defaults: {desc}',
                    next(iter(defaults)),
                    mt.name,
                    mf.name,
                )
            ma = MArgument(an, merged, next((a.default for a in present.values() if a.default is not None), None))
            _merge_meta(ma, present.values())
            mf.args[an] = ma

    def _check_external_args(self, mt: MType, mf: MField) -> None:
        """An ``@external`` copy declares the field's arguments as the graphs resolving it do: each supergraph
        argument present, with the same type and default (Apollo's EXTERNAL_ARGUMENT_MISSING / _TYPE_MISMATCH /
        _DEFAULT_MISMATCH), since the router selects the field there with the resolving graphs' arguments."""
        owners = [g for g, f in mf.sources.items() if not f.external]
        externals = {g: f for g, f in mf.sources.items() if f.external}
        if not owners or not externals:
            return
        coord = f"{mt.name}.{mf.name}"
        for an, ma in mf.args.items():
            arg = f'"{coord}({an}:)"'
            missing = [g for g, f in externals.items() if an not in f.args]
            if missing:
                self.error(
                    "EXTERNAL_ARGUMENT_MISSING",
                    f'Field "{coord}" is missing argument {arg} in some subgraphs where it is marked @external: '
                    f"argument {arg} is declared in {_subgraphs(owners)} but not in {_subgraphs(missing)} "
                    f'(where "{coord}" is @external).',
                    missing[0],
                    mt.name,
                    mf.name,
                )
            present = {g: f.args[an] for g, f in externals.items() if an in f.args}
            other_type = [g for g, a in present.items() if a.type != ma.type]
            if other_type:
                theirs = present[other_type[0]].type
                self.error(
                    "EXTERNAL_ARGUMENT_TYPE_MISMATCH",
                    f'Type of argument {arg} is incompatible across subgraphs (where "{coord}" is marked @external): '
                    f'it has type "{ma.type}" in {_subgraphs(owners)} but type "{theirs}" in {_subgraphs(other_type)}',
                    other_type[0],
                    mt.name,
                    mf.name,
                )
                continue
            ours = print_ast(ma.default) if ma.default is not None else None
            other_default = [
                g for g, a in present.items() if (print_ast(a.default) if a.default is not None else None) != ours
            ]
            if other_default:
                theirs_default = present[other_default[0]].default

                def shown(value: str | None) -> str:
                    return f"default value {value}" if value is not None else "no default value"

                self.error(
                    "EXTERNAL_ARGUMENT_DEFAULT_MISMATCH",
                    f'Argument {arg} has incompatible defaults across subgraphs (where "{coord}" is marked '
                    f"@external): it has {shown(ours)} in {_subgraphs(owners)} but "
                    f"{shown(print_ast(theirs_default) if theirs_default is not None else None)} in "
                    f"{_subgraphs(other_default)}",
                    other_default[0],
                    mt.name,
                    mf.name,
                )

    # -- inputs and enums ------------------------------------------------------------------------
    def _merge_input(self, mt: MType) -> None:
        names = _union(t.fields for t in mt.sources.values())
        for fn in names:
            present = {g: t.fields[fn] for g, t in mt.sources.items() if fn in t.fields}
            missing = [g for g in mt.sources if g not in present]
            if missing:
                required = [g for g, f in present.items() if is_non_null(f.type) and f.default is None]
                if required:
                    self.error(
                        "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH",
                        f'Input field "{mt.name}.{fn}" is required in {_quote(required)} but missing in '
                        f"{_quote(missing)}; input fields are merged by intersection, so a required one must "
                        "be everywhere",
                        missing[0],
                        mt.name,
                        fn,
                    )
                else:
                    self.hint(
                        "INCONSISTENT_INPUT_OBJECT_FIELD",
                        f'Input field "{mt.name}.{fn}" is missing in {_quote(missing)} and is not part of the '
                        "supergraph",
                        missing[0],
                        mt.name,
                        fn,
                    )
                continue
            merged = _merge_input_types([f.type for f in present.values()])
            if merged is None:
                desc = "; ".join(f'type "{f.type}" in subgraph "{g}"' for g, f in present.items())
                self.error(
                    "FIELD_TYPE_MISMATCH",
                    f'Type of input field "{mt.name}.{fn}" is incompatible across subgraphs: it has {desc}',
                    next(iter(present)),
                    mt.name,
                    fn,
                )
                continue
            defaults = {g: print_ast(f.default) for g, f in present.items() if f.default is not None}
            if len(set(defaults.values())) > 1:
                self.error(
                    "INPUT_FIELD_DEFAULT_MISMATCH",
                    f'Input field "{mt.name}.{fn}" has incompatible defaults across subgraphs',
                    next(iter(defaults)),
                    mt.name,
                    fn,
                )
            mf = MField(fn, merged, dict(present))
            mf.default = next((f.default for f in present.values() if f.default is not None), None)
            _merge_meta(mf, present.values())
            mt.fields[fn] = mf
        if not mt.fields:
            self.error(
                "EMPTY_MERGED_INPUT_TYPE",
                f'None of the fields of input type "{mt.name}" are defined in every subgraph defining it '
                f"({_quote(list(mt.sources))}); input types are merged by intersection",
                None,
                mt.name,
            )

    def _enum_usage(self) -> dict[str, set[str]]:
        usage: dict[str, set[str]] = {}
        for s in self.subs.values():
            for t in s.types.values():
                for f in t.fields.values():
                    usage.setdefault(named_type(f.type), set()).add("input" if t.kind == "input" else "output")
                    for a in f.args.values():
                        usage.setdefault(named_type(a.type), set()).add("input")
        return usage

    def _merge_enum(self, mt: MType, usage: set[str]) -> None:
        all_values = _union(t.values for t in mt.sources.values())
        missing = {v: [g for g, t in mt.sources.items() if v not in t.values] for v in all_values}
        if "input" in usage and "output" in usage:
            for v, gs in missing.items():
                if gs:
                    have = [g for g in mt.sources if g not in gs]
                    self.error(
                        "ENUM_VALUE_MISMATCH",
                        f'Enum type "{mt.name}" is used as both input and output, so its values must match in '
                        f'every subgraph, but value "{v}" is defined in {_quote(have)} and not in {_quote(gs)}',
                        gs[0],
                        mt.name,
                        v,
                    )
            keep = all_values
        elif "input" in usage:
            keep = [v for v in all_values if not missing[v]]
            for v in all_values:
                if missing[v]:
                    self.hint(
                        "INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM",
                        f'Value "{v}" of input-only enum "{mt.name}" is missing in {_quote(missing[v])} and is '
                        "not part of the supergraph",
                        missing[v][0],
                        mt.name,
                        v,
                    )
            if not keep:
                self.error(
                    "EMPTY_MERGED_ENUM_TYPE",
                    f'None of the values of input enum "{mt.name}" are defined in every subgraph',
                    None,
                    mt.name,
                )
        else:
            keep = all_values
            if not usage:
                self.hint(
                    "UNUSED_ENUM_TYPE", f'Enum type "{mt.name}" is not used by any field or argument', None, mt.name
                )
        for v in keep:
            mv = MEnumValue(v, [g for g, t in mt.sources.items() if v in t.values])
            _merge_meta(mv, (mt.sources[g].values[v] for g in mv.graphs))
            mt.values[v] = mv

    # -- @interfaceObject ------------------------------------------------------------------------
    def _interface_objects(self) -> None:
        for it in self.types.values():
            io_graphs = [g for g, t in it.sources.items() if t.interface_object]
            if it.kind != "interface" or not io_graphs:
                continue
            impls = [o for o in self.types.values() if it.name in o.interfaces and o.kind == "object"]
            for fname, mf in it.fields.items():
                if not any(g in io_graphs for g in mf.sources):
                    continue
                for o in impls:
                    self._check_interface_object_sharing(it, o, fname, io_graphs)
                    if fname not in o.fields:
                        copy = MField(
                            fname,
                            mf.type,
                            {},
                            dict(mf.args),
                            mf.description,
                            mf.deprecated,
                            inaccessible=mf.inaccessible,
                            tags=list(mf.tags),
                            access=mf.access,
                            from_interface_object=True,
                        )
                        o.fields[fname] = copy

    def _check_interface_object_sharing(self, it: MType, o: MType, fname: str, io_graphs: list[str]) -> None:
        """An interface object's field is resolved for every implementation: with the implementation's own field
        (or another interface object's) it must be shareable on both sides, as Apollo's composer requires."""
        entries: list[tuple[str, str, bool]] = []
        own = o.fields.get(fname)
        if own is not None and not own.from_interface_object:
            coord = (o.name, fname)
            entries += [(g, "", self._shareable_in(g, coord, own.sources[g])) for g in self._resolving(o.name, own)]
        for g in io_graphs:
            f = it.sources[g].fields.get(fname)
            if f is None or f.overridden or (f.external and (it.name, fname) not in self.subs[g].provided_coords):
                continue
            how = f' (through @interfaceObject field "{it.name}.{fname}")'
            entries.append((g, how, self._shareable_in(g, (it.name, fname), f)))
        self._report_sharing(o.name, fname, entries)

    def _interface_access(self) -> None:
        """An interface (and each of its fields) requires what every implementation requires: a client
        selecting through the interface cannot say which implementation it will get (docs/router.md §8.1)."""
        for it in self.types.values():
            if it.kind != "interface":
                continue
            for o in self.types.values():
                if o.kind != "object" or it.name not in o.interfaces:
                    continue
                if o.access is not None:
                    it.access = o.access.both(it.access)
                for fname, mf in it.fields.items():
                    of = o.fields.get(fname)
                    if of is not None and of.access is not None:
                        mf.access = of.access.both(mf.access)

    # -- post-merge checks -----------------------------------------------------------------------
    def _post_checks(self) -> None:
        for o in self.types.values():
            if o.kind in ("object", "interface"):
                self._check_implementations(o)
        self._check_query_root()
        for t in self.types.values():
            if t.inaccessible:
                continue
            for fname, f in t.fields.items():
                self._check_inaccessible_field(t, fname, f)
            self._check_only_inaccessible_children(t)

    def _check_implementations(self, o: MType) -> None:
        """Every field of every interface ``o`` implements exists on ``o``, and is visible if the
        interface field is."""
        for iname in o.interfaces:
            it = self.types.get(iname)
            if it is None or it.kind != "interface":
                continue
            for fname, ifield in it.fields.items():
                if fname in o.fields:
                    if not ifield.inaccessible and o.fields[fname].inaccessible:
                        self.error(
                            "IMPLEMENTED_BY_INACCESSIBLE",
                            f'Field "{o.name}.{fname}" is @inaccessible but implements the visible '
                            f'interface field "{iname}.{fname}"',
                            None,
                            o.name,
                            fname,
                        )
                    continue
                where = [g for g, i in o.implements if i == iname]
                declared = list(ifield.sources) or list(it.sources)
                self.error(
                    "INTERFACE_FIELD_NO_IMPLEM",
                    f'Interface field "{iname}.{fname}" is declared in subgraph{"s" if len(declared) > 1 else ""} '
                    f'{_quote(declared)} but type "{o.name}", which implements "{iname}" in '
                    f'{_quote(where or list(o.sources))}, does not have field "{fname}"',
                    (where or list(o.sources))[0],
                    o.name,
                    fname,
                )

    def _check_query_root(self) -> None:
        query = self.types.get("Query")
        # all fields @inaccessible is ONLY_INACCESSIBLE_CHILDREN alone, as in Apollo's composer
        if query is None or not query.fields:
            self.error(
                "NO_QUERIES",
                "No queries found in any subgraph: the supergraph must have at least one "
                "(accessible) field on the Query type",
                None,
                "Query",
            )
        if query is not None and query.inaccessible:
            self.error("QUERY_ROOT_TYPE_INACCESSIBLE", "The Query root type cannot be @inaccessible", None, "Query")

    def _check_inaccessible_field(self, t: MType, fname: str, f: MField) -> None:
        """A visible field must not reference an inaccessible type (through its type or an
        argument); a required input field or argument must not be inaccessible."""
        field = f'"{t.name}.{fname}"'
        self._check_inaccessible_value(t, fname, f, f"Input field {field}" if t.kind == "input" else None, field)
        if f.inaccessible:
            return
        if t.kind == "input":
            self._check_default(t, fname, f, field)
        for a in f.args.values():
            argument = f'"{t.name}.{fname}({a.name}:)"'
            self._check_inaccessible_value(t, fname, a, f"Argument {argument}", f"argument {argument}")
            if not a.inaccessible:
                self._check_default(t, fname, a, f'"{t.name}.{fname}({a.name}:)"')

    def _check_default(self, t: MType, fname: str, value: MField | MArgument, coord: str) -> None:
        """A visible default value may not use a hidden enum value or input field (DEFAULT_VALUE_USES_INACCESSIBLE):
        a client reading the schema could not send it back."""
        for used in self._hidden_in_value(value.default, value.type):
            self.error(
                "DEFAULT_VALUE_USES_INACCESSIBLE",
                f"{used} is @inaccessible but is used in the default value of {coord}, which is in the API schema.",
                None,
                t.name,
                fname,
            )

    def _hidden_in_value(self, value: Any, type_str: str) -> list[str]:
        if value is None:
            return []
        ref = self.types.get(named_type(type_str))
        if isinstance(value, ListValueNode):
            return [u for item in value.values for u in self._hidden_in_value(item, type_str)]
        if ref is None:
            return []
        if isinstance(value, EnumValueNode) and ref.kind == "enum":
            ev = ref.values.get(value.value)
            return [f'Enum value "{ref.name}.{value.value}"'] if ev is not None and ev.inaccessible else []
        if isinstance(value, ObjectValueNode) and ref.kind == "input":
            out: list[str] = []
            for f in value.fields:
                fdef = ref.fields.get(f.name.value)
                if fdef is None:
                    continue
                if fdef.inaccessible:
                    out.append(f'Input field "{ref.name}.{f.name.value}"')
                out += self._hidden_in_value(f.value, fdef.type)
            return out
        return []

    def _check_inaccessible_value(
        self, t: MType, fname: str, value: MField | MArgument, required_label: str | None, referrer: str
    ) -> None:
        """One field or argument: hidden, it must not be required (``required_label``: where that applies);
        visible, its type must be visible too."""
        if value.inaccessible:
            if required_label is not None and is_non_null(value.type) and value.default is None:
                self.error(
                    "REQUIRED_INACCESSIBLE", f"{required_label} is @inaccessible but required", None, t.name, fname
                )
            return
        ref = self.types.get(named_type(value.type))
        if ref is not None and ref.inaccessible:
            self.error(
                "REFERENCED_INACCESSIBLE",
                f'Type "{ref.name}" is @inaccessible but is referenced by {referrer}, which is in the API schema',
                None,
                t.name,
                fname,
            )

    def _check_only_inaccessible_children(self, t: MType) -> None:
        """A visible type needs a visible member (hidden union members are simply dropped)."""
        children: list[Any] = []
        if t.kind in ("object", "interface", "input"):
            children = list(t.fields.values())
        elif t.kind == "enum":
            children = list(t.values.values())
        if children and all(c.inaccessible for c in children) and t.name not in ("Mutation", "Subscription"):
            what = {"input": "input fields", "enum": "values"}.get(t.kind, "fields")
            self.error(
                "ONLY_INACCESSIBLE_CHILDREN",
                f'Type "{t.name}" is in the API schema but all of its {what} are @inaccessible.',
                None,
                t.name,
            )


def _merge_input_types(types: list[str]) -> str | None:
    """Most restrictive common input type (non-null wins), or None if they differ beyond nullability."""
    stripped = {t.replace("!", "") for t in types}
    if len(stripped) != 1:
        return None
    out = types[0]
    for t in types[1:]:
        out = _stricter(out, t)
    return out


def _stricter(a: str, b: str) -> str:
    nn = a.endswith("!") or b.endswith("!")
    a, b = a.rstrip("!"), b.rstrip("!")
    inner = "[" + _stricter(a[1:-1], b[1:-1]) + "]" if a.startswith("[") else a
    return inner + ("!" if nn else "")


def merge(subgraphs: Sequence[Subgraph]) -> tuple[ComposedSupergraph, list[CompositionError], list[CompositionHint]]:
    m = _Merger(subgraphs)
    sg = m.run()
    return sg, m.errors, m.hints
