"""setrum_common.cpu_policy: a thread asks for a CPU scheduling policy; a refusal is a warning, not a crash."""

from __future__ import annotations

import logging
import os
import threading

import pytest

from setrum_common.cpu_policy import apply_cpu_policy, cpu_policy_of

pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux's scheduling policies")


def _in_a_thread(policy: str) -> tuple[bool, str | None, str | None]:
    """In a fresh thread: what apply returned, that thread's policy, and the policy of a thread it started."""
    seen: list[tuple[bool, str | None, str | None]] = []

    def run() -> None:
        applied = apply_cpu_policy(policy)  # type: ignore[arg-type]
        child: list[str | None] = []
        inner = threading.Thread(target=lambda: child.append(cpu_policy_of(threading.get_native_id())))
        inner.start()
        inner.join()
        seen.append((applied, cpu_policy_of(threading.get_native_id()), child[0]))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


def test_a_thread_and_the_threads_it_starts_run_under_the_policy_asked() -> None:
    assert _in_a_thread("batch") == (True, "batch", "batch")
    assert _in_a_thread("normal") == (True, "normal", "normal")
    assert cpu_policy_of(threading.get_native_id()) == "normal"  # other threads keep theirs


def test_a_refused_change_is_a_warning_and_leaves_the_thread_as_it_was(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    with caplog.at_level(logging.WARNING, logger="setrum.cpu_policy"):
        assert apply_cpu_policy("batch") is False
    assert "refused" in caplog.text
    assert cpu_policy_of(threading.get_native_id()) == "normal"
