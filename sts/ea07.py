"""EA07, the Standard Transfer Algorithm: the 64-bit block cipher of STS tokens.

Sixteen rounds, each: substitute every nibble through one of two S-boxes (chosen by a key
bit), permute the 64 bits, rotate the key left by one. The round key starts as the decoder
key complemented and rotated right by 12. Decryption runs the rounds backwards.
"""

from __future__ import annotations

__all__ = ["P", "S1", "S2", "decrypt", "encrypt"]

_MASK64 = (1 << 64) - 1
ROUNDS = 16

S1 = (14, 10, 7, 9, 12, 3, 2, 5, 13, 0, 15, 1, 4, 8, 6, 11)
S2 = (12, 8, 2, 13, 7, 6, 1, 3, 11, 5, 9, 15, 0, 4, 10, 14)
P = (
    55, 42, 10, 18, 24, 21, 44, 35, 2, 22, 56, 43, 27, 58, 9, 50,
    6, 36, 12, 61, 37, 38, 53, 16, 62, 3, 7, 4, 32, 20, 63, 25,
    51, 52, 54, 33, 49, 19, 46, 29, 48, 31, 23, 30, 41, 28, 13, 5,
    40, 60, 39, 11, 15, 17, 1, 0, 57, 34, 59, 8, 47, 14, 45, 26,
)  # fmt: skip

_S1_INV = tuple(S1.index(v) for v in range(16))
_S2_INV = tuple(S2.index(v) for v in range(16))
_P_INV = tuple(P.index(i) for i in range(64))


def _rotl(value: int, count: int) -> int:
    count %= 64
    return ((value << count) | (value >> (64 - count))) & _MASK64


def _rotr(value: int, count: int) -> int:
    return _rotl(value, 64 - (count % 64))


def _substitute(block: int, key: int, s1: tuple[int, ...], s2: tuple[int, ...]) -> int:
    """The reference form of a round's substitution (nibble by nibble); the rounds use tables."""
    out = 0
    for n in range(16):
        nibble = (block >> (4 * n)) & 0xF
        box = s2 if (key >> (4 * n + 3)) & 1 else s1
        out |= box[nibble] << (4 * n)
    return out


def _permute(block: int, table: tuple[int, ...]) -> int:
    """The reference form of the bit permutation (bit ``i`` moves to ``table[i]``)."""
    out = 0
    for i in range(64):
        if (block >> i) & 1:
            out |= 1 << table[i]
    return out


# Tokens are made per purchase, so the rounds run on byte tables built once from the reference
# functions above: per byte position, the substituted byte for each pair of S-box choices, and
# the permuted 64-bit contribution of each byte value. Eight lookups replace 16 nibble steps and
# 64 bit tests per round (about 5x faster), with results identical by construction.
def _substitution_table(s1: tuple[int, ...], s2: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    # selector = (key bit of the high nibble) << 1 | (key bit of the low nibble)
    return tuple(
        tuple(_substitute(byte, ((selector >> 1) << 7) | ((selector & 1) << 3), s1, s2) & 0xFF for byte in range(256))
        for selector in range(4)
    )


def _permutation_table(table: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(_permute(byte << (8 * position), table) for byte in range(256)) for position in range(8))


_SUB = _substitution_table(S1, S2)
_SUB_INV = _substitution_table(_S1_INV, _S2_INV)
_PERM = _permutation_table(P)
_PERM_INV = _permutation_table(_P_INV)


def _selectors(key: int) -> tuple[int, ...]:
    """The S-box choice pair of each byte position: key bits 8p+3 (low nibble) and 8p+7 (high)."""
    return tuple(((key >> (8 * p + 3)) & 1) | (((key >> (8 * p + 7)) & 1) << 1) for p in range(8))


def _round(block: int, key: int) -> int:
    out = 0
    for position, selector in enumerate(_selectors(key)):
        out |= _PERM[position][_SUB[selector][(block >> (8 * position)) & 0xFF]]
    return out


def _inverse_round(block: int, key: int) -> int:
    permuted = 0
    for position in range(8):
        permuted |= _PERM_INV[position][(block >> (8 * position)) & 0xFF]
    out = 0
    for position, selector in enumerate(_selectors(key)):
        out |= _SUB_INV[selector][(permuted >> (8 * position)) & 0xFF] << (8 * position)
    return out


def _check(block: int, key: int) -> None:
    if not 0 <= block <= _MASK64 or not 0 <= key <= _MASK64:
        raise ValueError("EA07 works on a 64-bit block and a 64-bit key")


def encrypt(block: int, decoder_key: int) -> int:
    """Encrypt a 64-bit data block with a 64-bit decoder key."""
    _check(block, decoder_key)
    key = _rotr(~decoder_key & _MASK64, 12)
    for _ in range(ROUNDS):
        block = _round(block, key)
        key = _rotl(key, 1)
    return block


def decrypt(block: int, decoder_key: int) -> int:
    """Invert :func:`encrypt`."""
    _check(block, decoder_key)
    # The key of round 16 is the starting key rotated left 15 times.
    key = _rotl(_rotr(~decoder_key & _MASK64, 12), ROUNDS - 1)
    for _ in range(ROUNDS):
        block = _inverse_round(block, key)
        key = _rotr(key, 1)
    return block
