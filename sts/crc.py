"""CRC-16 of the STS token data block.

STS protects the first 50 bits of a token (class, subclass, random, TID, amount) with the
MODBUS flavour of CRC-16 (reflected polynomial 0xA001, initial value 0xFFFF); the standard
then stores the two result bytes swapped. Keeping that quirk in one place means the
encoder and the meter simulator can never disagree about it.
"""

from __future__ import annotations

__all__ = ["crc16_modbus", "token_crc"]


def crc16_modbus(data: bytes) -> int:
    """Plain CRC-16/MODBUS of ``data`` (as most references print it, not swapped)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            if crc & 1:
                crc = (crc >> 1) ^ 0xA001
            else:
                crc >>= 1
    return crc


def token_crc(first_50_bits: int) -> int:
    """The 16-bit CRC field for a token whose leading 50 bits are ``first_50_bits``.

    The bits are packed as 7 big-endian bytes (zero padded on the left) and the
    MODBUS result is byte-swapped, as IEC 62055-41 prescribes.
    """
    if not 0 <= first_50_bits < 1 << 50:
        raise ValueError("the CRC covers exactly 50 bits")
    crc = crc16_modbus(first_50_bits.to_bytes(7, "big"))
    return ((crc & 0xFF) << 8) | (crc >> 8)
