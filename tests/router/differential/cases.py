"""What the differential tests share: the run's seeds and operation budget, one compared case, and its verdict.

Every run compares two draws: the fixed seed ``FIXED_SEED`` (the same operations every time, so a change in the
router is always checked against them) and a fresh random seed (new operations every run, so the search goes on
in CI). Each seed is printed and named in every failure; ``SETRUM_DIFF_SEED`` replays exactly the seeds it lists
(comma-separated numbers, or ``random`` for a new draw). A mismatch becomes a fix with a named regression test, or
a named reference defect below. ``SETRUM_DIFF_OPS`` (default 2,100) is the number of operations of the fixed seed's
run, shared out among the sets by ``ops_for``; a random seed gets half of it (``RANDOM_SHARE``), which keeps the
test's time within half as much again.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from graphql import GraphQLSchema

from tests.fixtures.subgraph_apps import sets

from .generator import GeneratedOperation
from .harness import compare
from .oracles import ORACLES

__all__ = [
    "FIXTURE_SETS",
    "KNOWN_OPEN",
    "REFERENCE_DEFECTS",
    "SEEDS",
    "Case",
    "Seed",
    "check_all",
    "judge",
    "ops_for",
    "post",
]

FIXED_SEED = 50620882
TOTAL_OPS = int(os.environ.get("SETRUM_DIFF_OPS") or 2100)
RANDOM_SHARE = 0.5


@dataclass(frozen=True)
class Seed:
    """One draw of operations: ``value`` seeds every set's generator; ``drawn`` when it was picked at random."""

    value: int
    drawn: bool = False

    @property
    def label(self) -> str:
        """The pytest id, which names the seed (``random-<n>`` for a draw): any failure's report shows it."""
        return f"random-{self.value}" if self.drawn else str(self.value)

    @property
    def budget(self) -> int:
        """The operations of this seed's whole run (a random draw gets ``RANDOM_SHARE`` of the budget)."""
        return max(1, round(TOTAL_OPS * RANDOM_SHARE)) if self.drawn else TOTAL_OPS

    def for_set(self, set_name: str) -> int:
        """The seed of one set's generator: each set draws its own operations from the run's seed."""
        return zlib.crc32(f"{self.value}:{set_name}".encode())

    def describe(self) -> str:
        kind = "random" if self.drawn else ("fixed" if self.value == FIXED_SEED else "given")
        return f"seed {self.value} ({kind}; SETRUM_DIFF_SEED={self.value} replays it)"


def _seeds(setting: str) -> tuple[Seed, ...]:
    """``SETRUM_DIFF_SEED``: comma-separated seeds, each a number or ``random``."""
    draw = random.SystemRandom()
    return tuple(
        Seed(draw.randrange(1, 2**31), drawn=True) if part.strip() == "random" else Seed(int(part))
        for part in setting.split(",")
        if part.strip()
    )


SEEDS = _seeds(os.environ.get("SETRUM_DIFF_SEED") or f"{FIXED_SEED},random")
CONCURRENCY = 8
# Apollo Gateway refuses a supergraph linking the authorization features (`for: SECURITY`, which it does not
# implement; Apollo Router does), so that set is checked by its own tests only; likewise the context spec
# (`contexts`, @context/@fromContext), which Apollo Gateway refuses as an unsupported SECURITY feature.
NOT_COMPARED = {"authorization", "contexts"}
FIXTURE_SETS = (*(s for s in sets.SETS if s not in NOT_COMPARED), "peers_bench")
SETRUM_SHARES = 4  # Setrum's own schema is larger than a purpose-built set: four sets' share of the operations


def ops_for(set_name: str, seed: Seed) -> int:
    """One set's share of ``seed``'s operations (rounded up)."""
    shares = SETRUM_SHARES if set_name == "setrum" else 1
    return -(-seed.budget * shares // (len(FIXTURE_SETS) + SETRUM_SHARES))


@dataclass
class Case:
    set_name: str
    op: GeneratedOperation
    ours: dict[str, Any]
    apollo: dict[str, Any]
    hive: dict[str, Any]
    truth: dict[str, Any] | None = None  # the set's oracle's answer, where it has one (oracles.py)

    def describe(self) -> str:
        return (
            f"--- {self.op.describe()}\n  ours:   {json.dumps(self.ours)}\n  apollo: {json.dumps(self.apollo)}\n"
            f"  hive:   {json.dumps(self.hive)}"
        )


def _messages(answer: dict[str, Any]) -> list[str]:
    return [str(e.get("message")) for e in answer.get("errors") or ()]


# Where both reference gateways are wrong and the router follows the specification (docs/router.md §9 Checked
# against the reference gateways); each is pinned by a regression test in
# tests/router/e2e/test_differential_regressions.py.
REFERENCE_DEFECTS: dict[str, Callable[[Case], bool]] = {
    # A subgraph returns an enum value the API schema does not have: a field error by GraphQL's result coercion.
    # Apollo Gateway moves it to extensions.valueCompletion, Hive Gateway drops it.
    "enum value outside the API schema is a field error": lambda c: (
        c.ours.get("data") == c.apollo.get("data") and "valueCompletion" in (c.apollo.get("extensions") or {})
    ),
    # On a set with an oracle (oracles.py), ours equals the operation executed directly over the set's data:
    # - alias_merge: one value-type field selected on an interface and again under a fragment with another
    #   nullability (`Media.meta: Meta`, `Book.meta: Meta!` in media; the two copies cannot share a response key
    #   in the subgraph query, so one is aliased). Apollo Gateway answers null for fields of one copy, Hive
    #   Gateway sends both copies unaliased (the subgraph refuses the query) or also answers nulls.
    # - requires_args: two fields requiring one field with different arguments (totalUsd needs
    #   `price(currency: USD)`, totalEur the EUR price), asked together: Apollo Gateway computed totalUsd from
    #   the EUR price when the product's `id` was skipped (`{ products { id @include(if: false) totalUsd
    #   totalEur } }`: 99 for 107) and Hive Gateway failed the fetch.
    # - aliasing: one response key on Book and Movie whose `code` differs in nullability in media only, reached
    #   through a fragment spread inside a conditional fragment; both references send the copies unaliased and
    #   media refuses the query.
    "checked against the set's data": lambda c: c.truth is not None and compare(c.ours, c.truth) is None,
    # Fields under type conditions below a field an @interfaceObject graph serves (billing's `richest`).
    "type conditions below an @interfaceObject field": lambda c: (
        c.set_name == "interface_object" and "richest" in c.op.query and "... on" in c.op.query
    ),
    # The client asks a field with other arguments than a sibling's @requires needs (size in inches beside a field
    # requiring centimetres; the USD price beside a duty requiring the EUR price): Apollo Gateway hands the
    # client's value to the requiring field or the requirement's value to the client, Hive Gateway fails the fetch.
    "client's arguments differ from a requirement's": lambda c: (
        c.set_name in {"requires", "requires_args"}
        and bool(c.hive.get("errors"))
        and not c.ours.get("errors")
        and (
            'size(unit: "in")' in c.op.query
            or "price(currency: $" in c.op.query
            or "price(currency: USD)" in c.op.query
        )
    ),
    # Every sub-field of a field removed by variable conditions (`reviews @skip(if: $v0) { author @include(if: $v1)
    # { name @include(if: $v2) } }`, all false): each item is an empty object. Apollo Gateway answers `data: null`
    # without an error (never a valid response), Hive Gateway leaves the removed field's variable undeclared in
    # the subgraph query, which the subgraph refuses.
    "variable conditions remove every sub-field": lambda c: (
        not c.ours.get("errors")
        and c.apollo.get("data") is None
        and not c.apollo.get("errors")
        and "valueCompletion" in (c.apollo.get("extensions") or {})
        and any("is not defined by operation" in m for m in _messages(c.hive))
    ),
    # @requires through fragments on an external union: the references leave the Film's duration out.
    "requires through fragments on an external union": lambda c: "'duration'" in _messages(c.apollo),
}

# Mismatches from bugs whose fix is owned elsewhere in issue 14: recognised by our answer, reported in the summary
# (not failed) and pinned by a strict-xfail regression test each, which fails as soon as the bug is fixed so that
# the entry here goes with it.
KNOWN_OPEN: dict[str, Callable[[Case], bool]] = {}


def judge(case: Case) -> str | None:
    """None when ours agrees with Apollo Gateway; otherwise the summary bucket ("mismatch" fails the test)."""
    if compare(case.ours, case.apollo) is None:
        return None
    if compare(case.ours, case.hive) is None:
        return "agrees with Hive Gateway, not Apollo Gateway"
    for kind, table in (("reference defect", REFERENCE_DEFECTS), ("known open", KNOWN_OPEN)):
        for name, matches in table.items():
            if matches(case):
                return f"{kind}: {name}"
    return "mismatch"


async def post(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """One gateway's answer over HTTP. A connection the gateway closed as we reused it is retried once, on a new
    connection of its own (a loaded machine can keep a pooled one past the server's idle timeout)."""
    try:
        response = await client.post(url, json=body, headers=headers)
    except httpx.TransportError:
        async with httpx.AsyncClient(timeout=client.timeout) as fresh:
            response = await fresh.post(url, json=body, headers=headers)
    answer: dict[str, Any] = response.json()
    return answer


Answers = Callable[[GeneratedOperation], Awaitable[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]]


async def check_all(
    set_name: str, seed: Seed, ops: Sequence[GeneratedOperation], answers: Answers, schema: GraphQLSchema
) -> None:
    """Send every operation (``answers``: ours, Apollo Gateway's, Hive Gateway's), print the summary and fail
    with the first mismatches, if any. ``seed`` is the run's seed (the set's generator is seeded from it and the
    set's name); ``schema`` is the API schema (for the set's oracle, if any)."""
    oracle = ORACLES.get(set_name)
    limit = asyncio.Semaphore(CONCURRENCY)
    buckets: dict[str, int] = {}
    mismatches: list[Case] = []

    async def one(op: GeneratedOperation) -> None:
        async with limit:
            case = Case(set_name, op, *await answers(op))
        if oracle is not None and compare(case.ours, case.apollo) is not None:
            case.truth = oracle(schema, op)
        bucket = judge(case)
        if bucket is not None:
            buckets[bucket] = buckets.get(bucket, 0) + 1
        if bucket == "mismatch":
            mismatches.append(case)

    await asyncio.gather(*(one(op) for op in ops))
    print(f"{set_name}: {len(ops)} operations, {seed.describe()}; not identical to Apollo Gateway: {buckets or 'none'}")
    assert not mismatches, (
        f"{len(mismatches)} of {len(ops)} operations on set {set_name!r} differ from both reference gateways "
        f"(SETRUM_DIFF_SEED={seed.value} SETRUM_DIFF_OPS={seed.budget} replays them):\n"
        + "\n".join(c.describe() for c in mismatches[:5])
    )
