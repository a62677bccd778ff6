"""A prepaid meter simulator: it answers a keyed-in token the way a real STS meter does.

It exists so tests (and support staff) can check a token end to end: the biller makes a
token, the simulator with the meter's own decoder key accepts it and credits the exact kWh,
or refuses it for the reason a real meter would display:

- ``CRC_ERROR`` - the token does not decrypt to a valid block under this meter's key
  (mistyped digits, or a token for another meter / key revision);
- ``KEY_ERROR`` - the key has expired: the token's TID is beyond the key expiry number
  (KEN, the TID's top 8 bits may not exceed it);
- ``USED`` - a token with this TID was already accepted;
- ``OLD`` - the TID is older than the oldest TID the meter still remembers (it remembers
  the last ``memory`` TIDs, 50 by default - hence "a token lapses after ~50 newer ones");
- ``UNSUPPORTED`` - a valid token of a kind this meter does not handle (water credit...).

Key change tokens (:mod:`sts.keychange`) carry no TID, so neither the TID memory nor the key
expiry number applies to them. The meter keeps the first section it accepts and, when the other
section arrives, replaces its decoder key, key revision, key type, tariff index and key expiry
number; with the rollover bit set it also forgets every TID it has seen and counts TIDs from the
next base date. Until then it still reads tokens with the old key, so a credit token made with
the new key is a CRC error if it is entered before the pair.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from .amount import decode_amount, tenths_to_kwh
from .keychange import SectionData, read_section
from .tid import BASE_2014, base_date_for_year, next_base_date
from .tokens import (
    CRCError,
    CreditSubclass,
    DecodedToken,
    KeyChangeSection,
    ManagementKind,
    TokenClass,
    TokenFormatError,
    parse_token,
)

__all__ = ["DEFAULT_TID_MEMORY", "MeterResult", "MeterSimulator", "Outcome"]

DEFAULT_TID_MEMORY = 50


class Outcome(str, Enum):
    ACCEPTED = "ACCEPTED"
    CRC_ERROR = "CRC_ERROR"
    FORMAT_ERROR = "FORMAT_ERROR"
    KEY_ERROR = "KEY_ERROR"
    OLD = "OLD"
    USED = "USED"
    UNSUPPORTED = "UNSUPPORTED"


@dataclass(frozen=True, slots=True)
class MeterResult:
    outcome: Outcome
    message: str
    token: DecodedToken | None = None
    credited_tenths: int = 0
    key_changed: bool = False  # this token completed a key change

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED

    @property
    def credited_kwh(self) -> Decimal:
        return tenths_to_kwh(self.credited_tenths)


@dataclass
class MeterSimulator:
    """One meter: its decoder key, base date, TID memory and registers."""

    decoder_key: int
    base: datetime = BASE_2014
    key_expiry_number: int = 255
    memory: int = DEFAULT_TID_MEMORY
    credit_tenths: int = 0
    max_power_watts: int | None = None
    tampered: bool = False
    key_revision: int | None = None
    key_type: int | None = None
    tariff_index: str | None = None
    _tids: deque[int] = field(default_factory=deque, repr=False)
    _sections: dict[KeyChangeSection, SectionData] = field(default_factory=dict, repr=False)

    @property
    def credit_kwh(self) -> Decimal:
        return tenths_to_kwh(self.credit_tenths)

    @property
    def remembered_tids(self) -> tuple[int, ...]:
        return tuple(self._tids)

    def check(self, token: str) -> MeterResult:
        """What the meter would answer, without changing it."""
        try:
            decoded = parse_token(token, self.decoder_key, self.base)
        except TokenFormatError as exc:
            return MeterResult(Outcome.FORMAT_ERROR, str(exc))
        except CRCError as exc:
            return MeterResult(Outcome.CRC_ERROR, str(exc))
        if decoded.token_class == TokenClass.NON_METER_SPECIFIC:
            return MeterResult(Outcome.UNSUPPORTED, "class 1 (test/display) tokens are not simulated", decoded)
        if decoded.is_key_change:
            return MeterResult(Outcome.ACCEPTED, f"{decoded.kind} accepted", decoded)
        if decoded.tid >> 16 > self.key_expiry_number:
            return MeterResult(Outcome.KEY_ERROR, "the decoder key has expired for this TID", decoded)
        if decoded.tid in self._tids:
            return MeterResult(Outcome.USED, "a token with this TID was already used", decoded)
        if len(self._tids) >= self.memory and decoded.tid < min(self._tids):
            return MeterResult(Outcome.OLD, "the token is older than the oldest remembered token", decoded)
        if not self._supported(decoded):
            return MeterResult(Outcome.UNSUPPORTED, f"{decoded.kind} tokens are not handled", decoded)
        credited = decode_amount(decoded.value) if decoded.token_class == TokenClass.CREDIT else 0
        return MeterResult(Outcome.ACCEPTED, "accepted", decoded, credited)

    def enter(self, token: str) -> MeterResult:
        """Key in a token: on acceptance the TID is remembered and the token applied."""
        result = self.check(token)
        if not result.accepted or result.token is None:
            return result
        decoded = result.token
        if decoded.is_key_change:
            return self._key_change(decoded, result)
        self._remember(decoded.tid)
        if decoded.token_class == TokenClass.CREDIT:
            self.credit_tenths += result.credited_tenths
        elif decoded.subclass == ManagementKind.SET_MAX_POWER:
            self.max_power_watts = decode_amount(decoded.value)
        elif decoded.subclass == ManagementKind.CLEAR_CREDIT:
            self.credit_tenths = 0
        elif decoded.subclass == ManagementKind.CLEAR_TAMPER:
            self.tampered = False
        return result

    def _key_change(self, decoded: DecodedToken, result: MeterResult) -> MeterResult:
        section = read_section(decoded.subclass, decoded.body)
        self._sections[section.section] = section
        if len(self._sections) < 2:
            return result
        first, second = self._sections.pop(KeyChangeSection.FIRST), self._sections.pop(KeyChangeSection.SECOND)
        self.decoder_key = first.key_half << 32 | second.key_half
        self.key_expiry_number = first.ken_half << 4 | second.ken_half
        self.key_revision, self.key_type, self.tariff_index = first.key_revision, first.key_type, second.tariff_index
        if first.rollover:
            self._tids.clear()
            self.base = base_date_for_year(next_base_date(self.base.year))
        return MeterResult(Outcome.ACCEPTED, "decoder key changed", decoded, key_changed=True)

    def _supported(self, decoded: DecodedToken) -> bool:
        if decoded.token_class == TokenClass.CREDIT:
            return decoded.subclass == CreditSubclass.ELECTRICITY
        if decoded.token_class == TokenClass.MANAGEMENT:
            return decoded.subclass in ManagementKind._value2member_map_
        return False

    def _remember(self, tid: int) -> None:
        self._tids.append(tid)
        # Forget the oldest TIDs beyond the memory size.
        while len(self._tids) > self.memory:
            self._tids.remove(min(self._tids))
