"""Decoder keys: DKGA02 (IEC 62055-41 decoder key generation algorithm 02).

A meter's 64-bit decoder key is derived from the utility's 64-bit *vending key* and the
meter's identity, so the vending key (a secret kept by the biller only) plus the public meter
register is enough to make tokens for any meter::

    PAN block     = last 5 digits of the 6-digit IIN + the 11-digit meter number (16 nibbles)
    control block = key type (1) + supply group code (6) + tariff index (2) + key revision (1) + FFFFFF
    D  = PAN block XOR control block
    DK = DES(VK, D) XOR D XOR VK          (single DES, ECB; parity bits ignored)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

__all__ = [
    "DEFAULT_IIN",
    "MeterKeyParams",
    "des_encrypt_block",
    "derive_decoder_key",
    "parse_vending_key",
]

DEFAULT_IIN = "600727"  # the STS issuer identification number for electricity


def parse_vending_key(text: str | bytes) -> bytes:
    """A vending key given as 16 hex digits (surrounding whitespace allowed) -> 8 bytes."""
    if isinstance(text, bytes):
        if len(text) == 8:
            return text
        text = text.decode("ascii", "replace")
    cleaned = text.strip().replace(" ", "").replace("-", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        key = bytes.fromhex(cleaned)
    except ValueError:
        raise ValueError("a vending key is 16 hexadecimal digits") from None
    if len(key) != 8:
        raise ValueError("a vending key is 16 hexadecimal digits")
    return key


def des_encrypt_block(key: bytes, block: bytes) -> bytes:
    """Single-DES ECB encryption of one 8-byte block.

    ``cryptography`` only offers DES as TripleDES; with K1 = K2 = K3 it *is* single DES.
    """
    if len(key) != 8 or len(block) != 8:
        raise ValueError("DES works on an 8-byte key and an 8-byte block")
    encryptor = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


@dataclass(frozen=True, slots=True)
class MeterKeyParams:
    """The public identity of a meter's key (everything but the vending key)."""

    meter_number: str  # 11 digits (the DRN / IAIN)
    iin: str = DEFAULT_IIN  # 6 digits
    key_type: int = 2  # 0..15; 2 = credit/utility key
    supply_group_code: str = "123456"  # 6 digits
    tariff_index: str = "01"  # 2 digits
    key_revision: int = 1  # 1..9

    def __post_init__(self) -> None:
        if len(self.meter_number) != 11 or not self.meter_number.isdigit():
            raise ValueError("the meter number has 11 digits")
        if len(self.iin) != 6 or not self.iin.isdigit():
            raise ValueError("the IIN has 6 digits")
        if not 0 <= self.key_type <= 15:
            raise ValueError("the key type is one hex digit")
        if len(self.supply_group_code) != 6 or not self.supply_group_code.isdigit():
            raise ValueError("the supply group code has 6 digits")
        if len(self.tariff_index) != 2 or not self.tariff_index.isdigit():
            raise ValueError("the tariff index has 2 digits")
        if not 0 <= self.key_revision <= 9:
            raise ValueError("the key revision number is one digit")

    def pan_block(self) -> int:
        return int(self.iin[-5:] + self.meter_number, 16)

    def control_block(self) -> int:
        nibbles = f"{self.key_type:X}{self.supply_group_code}{self.tariff_index}{self.key_revision:X}FFFFFF"
        return int(nibbles, 16)


def derive_decoder_key(vending_key: bytes, params: MeterKeyParams) -> int:
    """The meter's 64-bit decoder key as an integer (bit i = key bit i)."""
    if len(vending_key) != 8:
        raise ValueError("the vending key has 8 bytes")
    data = params.pan_block() ^ params.control_block()
    encrypted = int.from_bytes(des_encrypt_block(vending_key, data.to_bytes(8, "big")), "big")
    return encrypted ^ data ^ int.from_bytes(vending_key, "big")
