"""QRIS payloads: EMVCo merchant-presented QR codes as Bank Indonesia's QRIS standard lays them out.

A payload is a run of ``ID LL value`` fields (two-digit tag, two-digit length) ending with the CRC
field ``63 04 XXXX``: CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF) over everything
before it, including ``6304``. A dynamic code (point of initiation ``12``) carries the amount, so a
payer's app cannot change it. Our merchant identifiers are made up; the layout is the real one.
"""

from __future__ import annotations

__all__ = ["crc16_ccitt", "parse_fields", "qris_payload"]

_MERCHANT_GUI = "ID.CO.SETRUM.WWW"
_MERCHANT_PAN = "936000140000000001"  # national PAN: 9360 + issuer code + merchant number
_QRIS_GUI = "ID.CO.QRIS.WWW"
_NMID = "ID1026000000001"  # the National Merchant ID QRIS assigns
_MCC_UTILITIES = "4900"
_IDR = "360"  # ISO 4217 numeric


def crc16_ccitt(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"QRIS field {tag} is longer than 99 characters")
    return f"{tag}{len(value):02d}{value}"


def qris_payload(*, amount: int, bill_number: str, merchant_name: str = "SETRUM", city: str = "JAKARTA") -> str:
    """A dynamic QRIS payload for ``amount`` rupiah whose bill number (tag 62.01) names the intent."""
    merchant = (
        _field("00", _MERCHANT_GUI) + _field("01", _MERCHANT_PAN) + _field("02", "SETRUM01") + _field("03", "UME")
    )
    domestic = _field("00", _QRIS_GUI) + _field("02", _NMID) + _field("03", "UME")
    body = (
        _field("00", "01")  # payload format indicator
        + _field("01", "12")  # dynamic: one payment, this amount
        + _field("26", merchant)
        + _field("51", domestic)
        + _field("52", _MCC_UTILITIES)
        + _field("53", _IDR)
        + _field("54", str(amount))
        + _field("58", "ID")
        + _field("59", merchant_name[:25])
        + _field("60", city[:15])
        + _field("61", "10110")
        + _field("62", _field("01", bill_number))
        + "6304"
    )
    return body + f"{crc16_ccitt(body.encode()):04X}"


def parse_fields(payload: str) -> dict[str, str]:
    """The top-level fields of a payload, after checking its CRC (``ValueError`` when it is not valid)."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise ValueError("not a QRIS payload: no CRC field at the end")
    if f"{crc16_ccitt(payload[:-4].encode()):04X}" != payload[-4:].upper():
        raise ValueError("QRIS payload CRC does not match")
    fields: dict[str, str] = {}
    i = 0
    while i < len(payload):
        tag, length = payload[i : i + 2], payload[i + 2 : i + 4]
        if not length.isdigit():
            raise ValueError("QRIS payload is malformed")
        fields[tag] = payload[i + 4 : i + 4 + int(length)]
        i += 4 + int(length)
    return fields
