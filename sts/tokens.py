"""STS tokens: building, encrypting and printing them, and reading them back.

A token is 66 bits (bit 0 least significant)::

    class(2) | subclass(4) | rnd(4) | TID(24) | data(16) | CRC(16)

The CRC covers the 50 bits before it. Everything but the class (the low 64 bits) is
encrypted with EA07 under the meter's decoder key; then the class bits are *transposed* into
bits 28 and 27 of the encrypted block, whose displaced bits move up to bits 65 and 64. The
66-bit number is printed as 20 decimal digits, ``XXXX-XXXX-XXXX-XXXX-XXXX``.

Supported token kinds (IEC 62055-41 numbering):

- class 0, subclass 0: electricity credit; data = amount in 0.1 kWh (see :mod:`sts.amount`).
- class 2, subclass 0: SetMaximumPowerLimit; data = MPL in watts, encoded like an amount.
- class 2, subclass 1: ClearCredit; data = RegisterToClear (0 = electricity, 0xFFFF = all).
- class 2, subclasses 3 and 4: Set1st/Set2ndSectionDecoderKey, the key change pair; they carry
  no TID and no 16-bit data field (their 44 bits are laid out in :mod:`sts.keychange`).
- class 2, subclass 5: ClearTamperCondition; data = 16 zero pad bits.

Class 1 tokens (not meter specific) are not encrypted; they can be read but not made here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import IntEnum

from . import ea07
from .amount import decode_amount, encode_tenths, tenths_to_kwh
from .crc import token_crc
from .tid import BASE_2014, tid_for, tid_to_datetime

__all__ = [
    "CLEAR_ALL_REGISTERS",
    "CLEAR_ELECTRICITY_REGISTER",
    "CRCError",
    "CreditSubclass",
    "DecodedToken",
    "IssuedToken",
    "KeyChangeSection",
    "ManagementKind",
    "TokenClass",
    "TokenFormatError",
    "credit_token",
    "digits_to_number",
    "encode_block",
    "encode_token",
    "format_token",
    "management_token",
    "normalize_token",
    "parse_token",
]

_MASK64 = (1 << 64) - 1
_MAX_TOKEN = (1 << 66) - 1

CLEAR_ELECTRICITY_REGISTER = 0x0000
CLEAR_ALL_REGISTERS = 0xFFFF


class TokenClass(IntEnum):
    CREDIT = 0
    NON_METER_SPECIFIC = 1
    MANAGEMENT = 2
    RESERVED = 3


class CreditSubclass(IntEnum):
    ELECTRICITY = 0
    WATER = 1
    GAS = 2
    TIME = 3


class ManagementKind(IntEnum):
    """Class 2 (meter specific management) subclasses we make and understand."""

    SET_MAX_POWER = 0
    CLEAR_CREDIT = 1
    CLEAR_TAMPER = 5


class KeyChangeSection(IntEnum):
    """Class 2 subclasses of the key change pair (see :mod:`sts.keychange`)."""

    FIRST = 3  # Set1stSectionDecoderKey
    SECOND = 4  # Set2ndSectionDecoderKey


class TokenFormatError(ValueError):
    """Not a token at all: wrong length, non-digits, or more than 66 bits."""


class CRCError(ValueError):
    """The token decrypts to a block whose CRC is wrong (mistyped, or for another meter/key)."""


class _TokenFields:
    """What an issued and a decoded token share: the class and the raw data field, and what they mean."""

    __slots__ = ()
    token_class: int
    value: int  # the raw 16-bit data field

    @property
    def amount_tenths(self) -> int | None:
        """Credit tokens: the amount in 0.1 units (kWh for electricity)."""
        if self.token_class == TokenClass.CREDIT:
            return decode_amount(self.value)
        return None


@dataclass(frozen=True, slots=True)
class IssuedToken(_TokenFields):
    """A freshly made token and what it carries."""

    token: str  # formatted XXXX-XXXX-XXXX-XXXX-XXXX
    token_class: int
    subclass: int
    tid: int
    issued_at: datetime  # the TID's minute (UTC)
    value: int  # the raw 16-bit data field
    rnd: int

    @property
    def digits(self) -> str:
        return self.token.replace("-", "")

    @property
    def kwh(self) -> Decimal | None:
        tenths = self.amount_tenths
        return None if tenths is None else tenths_to_kwh(tenths)


@dataclass(frozen=True, slots=True)
class DecodedToken(_TokenFields):
    """A token read back with a decoder key (its CRC has been checked)."""

    token_class: int
    subclass: int
    rnd: int
    tid: int
    issued_at: datetime  # UTC, from the base date the reader assumed
    value: int  # the raw 16-bit data field
    crc: int

    @property
    def kind(self) -> str:
        """A human name: ``ELECTRICITY_CREDIT``, ``SET_MAX_POWER``, ``CLASS_2_SUBCLASS_7``..."""
        if self.token_class == TokenClass.CREDIT and self.subclass == CreditSubclass.ELECTRICITY:
            return "ELECTRICITY_CREDIT"
        if self.token_class == TokenClass.CREDIT and self.subclass in CreditSubclass._value2member_map_:
            return f"{CreditSubclass(self.subclass).name}_CREDIT"
        if self.token_class == TokenClass.MANAGEMENT and self.subclass in ManagementKind._value2member_map_:
            return ManagementKind(self.subclass).name
        if self.token_class == TokenClass.MANAGEMENT and self.subclass in KeyChangeSection._value2member_map_:
            return f"KEY_CHANGE_{KeyChangeSection(self.subclass).name}"
        return f"CLASS_{self.token_class}_SUBCLASS_{self.subclass}"

    @property
    def is_key_change(self) -> bool:
        return self.token_class == TokenClass.MANAGEMENT and self.subclass in KeyChangeSection._value2member_map_

    @property
    def body(self) -> int:
        """The 44 bits after the subclass, whatever their layout (rnd, TID and data for most kinds)."""
        return (self.rnd << 40) | (self.tid << 16) | self.value

    @property
    def kwh(self) -> Decimal | None:
        if self.token_class == TokenClass.CREDIT and self.subclass == CreditSubclass.ELECTRICITY:
            return tenths_to_kwh(decode_amount(self.value))
        return None

    @property
    def max_power_watts(self) -> int | None:
        if self.token_class == TokenClass.MANAGEMENT and self.subclass == ManagementKind.SET_MAX_POWER:
            return decode_amount(self.value)
        return None


def _check_range(name: str, value: int, bits: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << bits:
        raise ValueError(f"{name} must be an integer of {bits} bits, got {value!r}")


def encode_token(token_class: int, subclass: int, rnd: int, tid: int, value: int, decoder_key: int) -> str:
    """Build, CRC, encrypt and transpose one token; returns the 20 plain digits."""
    _check_range("rnd", rnd, 4)
    _check_range("TID", tid, 24)
    _check_range("data", value, 16)
    return encode_block(token_class, subclass, (rnd << 40) | (tid << 16) | value, decoder_key)


def encode_block(token_class: int, subclass: int, body: int, decoder_key: int) -> str:
    """Any token from its class, subclass and the 44 bits that follow them (bit 0 = the bit just
    above the CRC): CRC, encrypt, transpose; returns the 20 plain digits."""
    _check_range("class", token_class, 2)
    _check_range("subclass", subclass, 4)
    _check_range("body", body, 44)
    first50 = (token_class << 48) | (subclass << 44) | body
    block = ((first50 & ((1 << 48) - 1)) << 16) | token_crc(first50)
    # class 1 tokens are sent in the clear
    encrypted = block if token_class == TokenClass.NON_METER_SPECIFIC else ea07.encrypt(block, decoder_key)
    displaced = (encrypted >> 27) & 0b11
    number = encrypted & ~(0b11 << 27) & _MASK64
    number |= (token_class & 0b11) << 27
    number |= displaced << 64
    return f"{number:020d}"


def format_token(digits: str) -> str:
    """``12345678901234567890`` -> ``1234-5678-9012-3456-7890``."""
    digits = normalize_token(digits)
    return "-".join(digits[i : i + 4] for i in range(0, 20, 4))


def normalize_token(text: str) -> str:
    """Strip spaces and dashes; the result must be 20 digits."""
    digits = "".join(text.split()).replace("-", "")
    if len(digits) != 20 or not digits.isascii() or not digits.isdigit():
        raise TokenFormatError("a token is 20 decimal digits")
    if int(digits) > _MAX_TOKEN:
        raise TokenFormatError("the number is larger than 66 bits, so it is not an STS token")
    return digits


def digits_to_number(text: str) -> int:
    return int(normalize_token(text))


def parse_token(token: str, decoder_key: int, base: datetime = BASE_2014) -> DecodedToken:
    """Read a token with a decoder key: undo the transposition, decrypt, check the CRC.

    Raises :class:`TokenFormatError` for a non-token and :class:`CRCError` when the CRC does
    not match (mistyped digits, or a token made for another meter or key).
    """
    number = digits_to_number(token)
    token_class = (number >> 27) & 0b11
    encrypted = number & _MASK64 & ~(0b11 << 27)
    encrypted |= ((number >> 64) & 0b11) << 27
    block = encrypted if token_class == TokenClass.NON_METER_SPECIFIC else ea07.decrypt(encrypted, decoder_key)
    first50 = (token_class << 48) | (block >> 16)
    crc = block & 0xFFFF
    if token_crc(first50) != crc:
        raise CRCError("CRC error: the digits were mistyped or the token is for another meter/key")
    tid = (block >> 32) & 0xFFFFFF
    return DecodedToken(
        token_class=token_class,
        subclass=(block >> 60) & 0xF,
        rnd=(block >> 56) & 0xF,
        tid=tid,
        issued_at=tid_to_datetime(tid, base),
        value=(block >> 16) & 0xFFFF,
        crc=crc,
    )


def _issue(
    token_class: int,
    subclass: int,
    value: int,
    decoder_key: int,
    tid: int,
    base: datetime,
    rnd: int | None,
) -> IssuedToken:
    rnd = secrets.randbelow(16) if rnd is None else rnd
    digits = encode_token(token_class, subclass, rnd, tid, value, decoder_key)
    return IssuedToken(
        token=format_token(digits),
        token_class=token_class,
        subclass=subclass,
        tid=tid,
        issued_at=tid_to_datetime(tid, base),
        value=value,
        rnd=rnd,
    )


def _resolve_tid(tid: int | None, issued_at: datetime | None, base: datetime) -> int:
    if tid is not None:
        _check_range("TID", tid, 24)
        return tid
    if issued_at is None:
        raise ValueError("give the issue time or the TID")
    return tid_for(issued_at, base)


def credit_token(
    decoder_key: int,
    tenths: int,
    *,
    issued_at: datetime | None = None,
    tid: int | None = None,
    base: datetime = BASE_2014,
    rnd: int | None = None,
) -> IssuedToken:
    """An electricity credit token (class 0, subclass 0) for ``tenths`` of a kWh.

    Pass either the issue time (the TID is computed from ``base``; raises
    :class:`sts.tid.KeyChangeRequired` past the base date's range) or an allocated ``tid``.
    """
    value = encode_tenths(tenths)
    return _issue(
        TokenClass.CREDIT, CreditSubclass.ELECTRICITY, value, decoder_key,
        _resolve_tid(tid, issued_at, base), base, rnd,
    )  # fmt: skip


def management_token(
    decoder_key: int,
    kind: ManagementKind | str,
    value: int | None = None,
    *,
    issued_at: datetime | None = None,
    tid: int | None = None,
    base: datetime = BASE_2014,
    rnd: int | None = None,
) -> IssuedToken:
    """A class 2 management token.

    ``SET_MAX_POWER``: ``value`` is the limit in watts (encoded like an amount, so large
    limits round up); ``CLEAR_CREDIT``: ``value`` is the register (default 0 = electricity,
    0xFFFF = all); ``CLEAR_TAMPER``: ``value`` must be empty or 0.
    """
    kind = ManagementKind[kind] if isinstance(kind, str) else ManagementKind(kind)
    if kind is ManagementKind.SET_MAX_POWER:
        if value is None or isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("SET_MAX_POWER needs a limit in watts (a non-negative integer)")
        field = 0 if value == 0 else encode_tenths(value)
    elif kind is ManagementKind.CLEAR_CREDIT:
        field = CLEAR_ELECTRICITY_REGISTER if value is None else value
        _check_range("register", field, 16)
    else:
        if value not in (None, 0):
            raise ValueError("CLEAR_TAMPER carries no value")
        field = 0
    return _issue(
        TokenClass.MANAGEMENT, int(kind), field, decoder_key,
        _resolve_tid(tid, issued_at, base), base, rnd,
    )  # fmt: skip
