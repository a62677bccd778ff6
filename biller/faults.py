"""Switchable faults, so the slow, pending, failing and silent biller paths can be tested for real.

Faults live in memory (they are a test switchboard, not business data): one global fault and
one per meter; a meter's own fault wins over the global one.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FAULT_MODES", "Fault", "FaultBoard"]

FAULT_MODES = ("none", "delay", "pending_then_success", "fail", "timeout", "maintenance")


@dataclass(frozen=True, slots=True)
class Fault:
    mode: str
    delay_ms: int = 0
    pending_polls: int = 1  # pending_then_success: how many answers say PENDING


class FaultBoard:
    def __init__(self) -> None:
        self._global: Fault | None = None
        self._meters: dict[str, Fault] = {}

    def set(self, fault: Fault, meter_number: str | None = None) -> None:
        if fault.mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {fault.mode!r}")
        active = None if fault.mode == "none" else fault
        if meter_number is None:
            self._global = active
        elif active is None:
            self._meters.pop(meter_number, None)
        else:
            self._meters[meter_number] = active

    def clear(self) -> None:
        self._global = None
        self._meters.clear()

    def for_meter(self, meter_number: str) -> Fault | None:
        return self._meters.get(meter_number, self._global)

    def snapshot(self) -> dict[str, object]:
        def show(f: Fault | None) -> dict[str, object] | None:
            if f is None:
                return None
            return {"mode": f.mode, "delayMs": f.delay_ms, "pendingPolls": f.pending_polls}

        return {"global": show(self._global), "meters": {k: show(v) for k, v in self._meters.items()}}
