"""Password hashing runs off the event loop and honours its parameters."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from argon2 import PasswordHasher

from subgraphs.users.passwords import Passwords

from .conftest import GraphQL, codes


async def test_hashing_and_verifying_run_in_worker_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real_hash, real_verify = PasswordHasher.hash, PasswordHasher.verify

    def spy_hash(self: PasswordHasher, password: str, **kw: Any) -> str:
        threads.append(threading.get_ident())
        return real_hash(self, password, **kw)

    def spy_verify(self: PasswordHasher, hash: str, password: str) -> bool:
        threads.append(threading.get_ident())
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "hash", spy_hash)
    monkeypatch.setattr(PasswordHasher, "verify", spy_verify)
    passwords = Passwords(time_cost=1, memory_kib=1024, parallelism=1, concurrency=2)
    stored = await passwords.hash("kopi-tubruk-42")
    assert await passwords.verify(stored, "kopi-tubruk-42") is True
    assert await passwords.verify(stored, "kopi-tubruk-43") is False
    assert await passwords.verify("not-a-hash", "kopi-tubruk-42") is False
    assert len(threads) == 4
    assert threading.get_ident() not in threads


def test_needs_rehash_follows_the_parameters() -> None:
    weak = Passwords(time_cost=1, memory_kib=1024, parallelism=1)
    strong = Passwords(time_cost=2, memory_kib=1024, parallelism=1)
    stored = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("kopi-tubruk-42")
    assert weak.needs_rehash(stored) is False
    assert strong.needs_rehash(stored) is True
    assert strong.needs_rehash("garbage") is True


async def test_concurrent_sign_ups_with_one_email_make_one_account(gql: GraphQL) -> None:
    query = "mutation ($i: SignUpInput!) { signUp(input: $i) { customer { id } } }"
    emails = ["Kembar@example.id", "kembar@example.id", "KEMBAR@EXAMPLE.ID", " kembar@Example.id"]
    bodies = await asyncio.gather(
        *(gql(query, {"i": {"name": "Kembar", "email": e, "password": "kopi-tubruk-42"}}) for e in emails)
    )
    assert sorted(code for body in bodies for code in codes(body)) == ["DUPLICATE_EMAIL"] * 3
    assert sum(1 for body in bodies if body["data"]) == 1
