"""Key change tokens: moving a meter to a new decoder key (IEC 62055-41 class 2, subclasses 3 and 4).

A meter's decoder key changes when its key revision, supply group or tariff index changes, and
at a TID rollover (the meter moves to the next base date, see :mod:`sts.tid`). The new 64-bit key
travels in two tokens, both encrypted under the meter's *current* (old) key, because only that
key can convince the meter they are genuine:

    Set1stSectionDecoderKey (subclass 3), the 44 bits after the subclass, high to low:
        KENHO(4) | KRN(4) | RO(1) | Res(1) | KT(2) | NKHO(32)
    Set2ndSectionDecoderKey (subclass 4):
        KENLO(4) | TI(8) | NKLO(32)

NKHO/NKLO are the high and low 32 bits of the new key; KENHO/KENLO the high and low nibbles of
the new key expiry number; KRN, KT and TI the new key revision, key type (2 bits) and tariff index
(the two decimal digits as one binary byte). RO, the rollover bit, tells the meter to forget the
TIDs it has seen: tokens on the next base date start again from small TIDs. Res is 0 (it is used
only by the 128-bit key transfer, which needs the 3rd and 4th section tokens - subclasses 8 and 9 -
and the MISTY1 algorithm; our 64-bit DKGA02/EA07 keys never use them).

Key change tokens carry no TID, so a meter does not check them against its TID memory or its key
expiry number: an expired key can still be replaced. The meter keeps the first section it receives
and changes its key when the other one arrives. After the pair, the credit token (made with the
new key and, after a rollover, on the new base date) is entered last.

The bit layout is checked against published compliance vectors (``tests/sts``: the DKGA02/EA07
key change vectors, RO = 0). No published vector sets the rollover bit; that case is tested by
round trip through :class:`sts.meter.MeterSimulator`, which follows the behaviour above.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tokens import KeyChangeSection, TokenClass, encode_block, format_token

__all__ = ["KeyChange", "SectionData", "key_change_tokens", "read_section"]

_LOW32 = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class KeyChange:
    """Everything the key change pair tells a meter about its new key."""

    new_key: int  # the new 64-bit decoder key
    key_revision: int  # KRN, 1..9 (4 bits on the wire)
    key_type: int  # KT, 0..3 (2 bits on the wire)
    tariff_index: str  # TI, two decimal digits
    key_expiry_number: int = 255  # KEN; 255 = the key never expires
    rollover: bool = False  # RO: the meter forgets its TIDs (a base date change)

    def __post_init__(self) -> None:
        if not 0 <= self.new_key < 1 << 64:
            raise ValueError("the new decoder key has 64 bits")
        if not 0 <= self.key_revision <= 15:
            raise ValueError("the key revision number has 4 bits")
        if not 0 <= self.key_type <= 3:
            raise ValueError("a key change token carries a key type of 2 bits (0-3)")
        if len(self.tariff_index) != 2 or not self.tariff_index.isdigit():
            raise ValueError("the tariff index has 2 digits")
        if not 0 <= self.key_expiry_number <= 255:
            raise ValueError("the key expiry number has 8 bits")


def key_change_tokens(old_key: int, change: KeyChange) -> tuple[str, str]:
    """The 1st and 2nd section tokens (formatted), encrypted under the meter's current key."""
    first = (
        (change.key_expiry_number >> 4) << 40
        | change.key_revision << 36
        | int(change.rollover) << 35
        | change.key_type << 32
        | change.new_key >> 32
    )
    second = (change.key_expiry_number & 0xF) << 40 | int(change.tariff_index) << 32 | (change.new_key & _LOW32)
    return (
        format_token(encode_block(TokenClass.MANAGEMENT, KeyChangeSection.FIRST, first, old_key)),
        format_token(encode_block(TokenClass.MANAGEMENT, KeyChangeSection.SECOND, second, old_key)),
    )


@dataclass(frozen=True, slots=True)
class SectionData:
    """One section read back: the first carries KENHO, KRN, RO, KT and NKHO; the second KENLO, TI, NKLO."""

    section: KeyChangeSection
    key_half: int  # NKHO or NKLO
    ken_half: int  # KENHO or KENLO
    key_revision: int | None = None
    key_type: int | None = None
    rollover: bool | None = None
    tariff_index: str | None = None


def read_section(subclass: int, body: int) -> SectionData:
    """The fields of a decrypted key change token from its subclass and 44-bit body."""
    section = KeyChangeSection(subclass)
    if section is KeyChangeSection.FIRST:
        return SectionData(
            section,
            key_half=body & _LOW32,
            ken_half=(body >> 40) & 0xF,
            key_revision=(body >> 36) & 0xF,
            key_type=(body >> 32) & 0b11,
            rollover=bool((body >> 35) & 1),
        )
    return SectionData(
        section, key_half=body & _LOW32, ken_half=(body >> 40) & 0xF, tariff_index=f"{(body >> 32) & 0xFF:02d}"
    )
