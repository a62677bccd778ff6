"""Section refusalcost — what one overload refusal costs the server that makes it, in CPU.

In a 10x storm nine requests in ten are refused, on the same cores that sell the tenth, so a refusal's
cost is goodput lost. Three servers (``bench/refusal/servers.py``), each refusing every request it gets:
the router's HTTP protocol with its overload door, the plain protocol (the app's middleware refuses),
and a bare asyncio protocol answering the same bytes (the floor). Each is offered the same open-loop
load by the C generator (``bench/openloop.py``) in alternating rounds in one run; reported: the
server's CPU per request (``/proc``), and each against the bare floor. No target: the figure explains the
storm section's 10x (see docs/overload.md, step 7).
"""

from __future__ import annotations

import socket
import sys
import time
from typing import Any

from setrum.launcher import free_port

from . import openloop
from .common import CLK_TCK, Load, Proc, Report, cpu_ticks, median, table
from .stack import Stack

__all__ = ["run"]

MODES = ("door", "app", "bare")
RATE = 2500.0
TEMPLATE = openloop.Template(
    "POST",
    "/graphql",
    {"authorization": "Bearer " + "x" * 160, "content-type": "application/json"},
    b'{"query":"mutation B($r: String!) { purchaseToken(clientReference: $r) { id status } }",'
    b'"variables":{"r":"bench-refusal-{{seq}}"}}',
)


def _wait_listening(server: Proc, port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited during start-up:\n{server.log_tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not listen on {port}")


def _round(binary: Any, mode: str, seconds: float) -> float:
    """Microseconds of server CPU per refused request, one server for one round."""
    port = free_port()
    server = Proc(f"refusal-{mode}", [sys.executable, "-m", "bench.refusal.servers", mode, str(port)]).start()
    try:
        _wait_listening(server, port)
        ticks = cpu_ticks([server.pid])
        done = openloop.run(binary, f"http://127.0.0.1:{port}/graphql", [TEMPLATE], rate=RATE, seconds=seconds)
        used = (cpu_ticks([server.pid]) - ticks) / CLK_TCK
    finally:
        server.stop()
    refused = sum(1 for r in done.records if r.status == 503)
    if refused < 0.95 * len(done.records):
        raise RuntimeError(f"{mode}: only {refused} of {len(done.records)} requests were refused")
    return used * 1e6 / refused


def run(stack: Stack, load: Load, report: Report) -> None:
    binary = openloop.build()
    if binary is None:
        print("  SKIP: no C compiler for the open-loop generator")
        return
    seconds = max(5.0, load.duration_s)
    print(f"  every request refused; {RATE:.0f} requests/s for {seconds:.0f}s per round, {load.rounds} rounds")
    per_mode: dict[str, list[float]] = {mode: [] for mode in MODES}
    for _ in range(load.rounds):
        for mode in MODES:
            per_mode[mode].append(_round(binary, mode, seconds))
            time.sleep(0.5)
    medians = {mode: median(values) for mode, values in per_mode.items()}
    floor = medians["bare"]
    rows = [[mode, f"{medians[mode]:.1f}", f"{medians[mode] / floor:.2f}x"] for mode in MODES]
    print(table(rows, ["server", "us CPU per refusal (median)", "against bare"]))
    out = {mode: {"us_per_refusal": [round(v, 1) for v in per_mode[mode]], "median": round(medians[mode], 1)}
           for mode in MODES}  # fmt: skip
    report.section("refusalcost", out)
