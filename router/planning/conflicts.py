"""Internal aliases for response keys that would not merge inside one subgraph query
(docs/router.md §3.9 Abstract types across graphs).

A client may select ``... on Book { v: code } ... on Movie { v: code }``: valid against the
supergraph, where both fields are ``String``, but in the subgraph ``Book.code`` may be
``String!`` while ``Movie.code`` is ``String``, and GraphQL's overlapping-fields rule rejects
the subgraph query ("conflicting types"). The fix: send the later field under an internal
alias and give the fetch an *output* ``KeyRenamer`` that restores the client's key in the
subgraph response before it is merged. A ``__typename`` is added next to each renamed field
so the rename only applies to objects of that type.

Only response keys that occur more than once at one level (fragments flattened) are looked
at, so ordinary selections cost a dictionary walk and no type look-ups.
"""

from __future__ import annotations

from typing import Any

from ..supergraph.model import Supergraph
from . import query_plan as p
from .selections import OField, OFragment, OSet

__all__ = ["alias_conflicting_keys"]

ALIAS_PREFIX = "_internal_qp_rename_"

#: a parent type name, None (``_entities``), or (the grandparent ref, field name): resolved lazily
_ParentRef = str | tuple[Any, str] | None
#: the response path as a linked list (prefix ref, segment), materialised only for a rename
_PathRef = tuple[Any, str] | None
# (field, the set that holds it, parent ref, response path prefix, fragment)
_Entry = tuple[OField, OSet, _ParentRef, _PathRef, OFragment | None]
# the same with the parent resolved to a type name
_ResolvedEntry = tuple[OField, OSet, str | None, _PathRef, OFragment | None]


def alias_conflicting_keys(
    sel: OSet, parent: str | None, graph: str, supergraph: Supergraph
) -> tuple[p.KeyRenamer, ...]:
    """Rename conflicting same-key fields in ``sel`` (in place); the output rewrites that undo
    it, innermost first. ``parent`` is the root type for a root fetch, ``None`` for the
    ``_entities`` selection."""
    out: list[p.KeyRenamer] = []
    _Pass(graph, supergraph, out).level(sel, parent, None)
    return tuple(out)


class _Pass:
    __slots__ = ("graph", "sg", "out", "n")

    def __init__(self, graph: str, sg: Supergraph, out: list[p.KeyRenamer]) -> None:
        self.graph = graph
        self.sg = sg
        self.out = out
        self.n = 0

    def level(self, sel: OSet, parent: _ParentRef, path: _PathRef) -> None:
        # Fast path: no fragments and no key repeated (under other directives) at this level.
        seen: set[str] = set()
        for k in sel.items:
            if k[0] == "i" or k[1] in seen:
                break
            seen.add(k[1])
        else:
            if parent is not None:
                for f in sel.items.values():
                    if isinstance(f, OField) and f.sub is not None:
                        self.level(f.sub, (parent, f.name), (path, f.response_key))
            return
        entries: list[_Entry] = []
        self._collect(sel, parent, path, None, entries)
        by_key: dict[str, list[_Entry]] = {}
        for e in entries:
            rk = e[0].response_key
            if rk != "__typename":
                by_key.setdefault(rk, []).append(e)
        renames: list[p.KeyRenamer] = []
        for rk, group in by_key.items():
            if len(group) > 1:
                resolved = [(f, o, self._parent(fp), pa, fr) for f, o, fp, pa, fr in group]
                renames.extend(self._resolve(rk, resolved))
        # Children first: their rewrite paths use the keys as the subgraph returns them, so
        # they must run before this level's keys are renamed back.
        for f, _owner, fparent, fpath, _frag in entries:
            if f.sub is not None and fparent is not None:
                # The child's parent type is looked up only if that level has a duplicate key.
                self.level(f.sub, (fparent, f.name), (fpath, f.response_key))
        self.out.extend(renames)

    def _collect(
        self, sel: OSet, parent: _ParentRef, path: _PathRef, frag: OFragment | None, out: list[_Entry]
    ) -> None:
        for item in sel:
            if isinstance(item, OField):
                out.append((item, sel, parent, path, frag))
            else:
                tc = item.type_condition
                self._collect(item.sub, tc or parent, (path, f"... on {tc}") if tc else path, item, out)

    def _parent(self, ref: _ParentRef) -> str | None:
        if ref is None or isinstance(ref, str):
            return ref
        grand, field_name = ref
        owner = self._parent(grand)
        return None if owner is None else self.sg.field_type_in_graph(self.graph, owner, field_name)

    def _type(self, parent: str | None, f: OField) -> str | None:
        if parent is None:
            return None
        info = self.sg.field_info(parent, f.name)
        if info is None:
            return None
        fig = info.graphs.get(self.graph)
        return fig.type if fig is not None and fig.type else info.type_str

    def _exclusive(self, a: str | None, b: str | None) -> bool:
        if a is None or b is None or a == b:
            return False
        ta, tb = self.sg.type_info(a), self.sg.type_info(b)
        return ta is not None and tb is not None and ta.kind == "object" and tb.kind == "object"

    def _resolve(self, rk: str, group: list[_ResolvedEntry]) -> list[p.KeyRenamer]:
        kept: list[tuple[_ResolvedEntry, str | None]] = []
        renames: list[p.KeyRenamer] = []
        for e in group:
            f, owner, parent, path, frag = e
            ftype = self._type(parent, f)
            clash = False
            for (g, _o, gparent, _p, _fr), gtype in kept:
                if ftype != gtype or (
                    not self._exclusive(parent, gparent) and (g.name != f.name or g.args_text != f.args_text)
                ):
                    clash = True
                    break
            if not clash or path is None or not path[1].startswith("... on "):
                # Only fields under a type condition can be renamed back per object.
                kept.append((e, ftype))
                continue
            alias = f"{ALIAS_PREFIX}{self.n}"
            self.n += 1
            _rename(owner, f, alias)
            if frag is not None:
                frag.sub.typename()
            renames.append(p.KeyRenamer(path=(*_materialise(path), alias), rename_key_to=rk))
        return renames


def _rename(owner: OSet, f: OField, alias: str) -> None:
    old_rk = f.response_key
    items = {}
    for key, item in owner.items.items():
        if item is f:
            f.alias = alias
            key = ("f", alias, *key[2:]) if key[:2] == ("f", old_rk) else key
        items[key] = item
    owner.items = items


def _materialise(path: _PathRef) -> tuple[str, ...]:
    segs: list[str] = []
    while path is not None:
        path, seg = path
        segs.append(seg)
    return tuple(reversed(segs))
