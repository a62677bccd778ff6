"""Normalising and checking user input: emails, Indonesian phone numbers, names, passwords.

Each function returns the normalised value or raises ``BAD_USER_INPUT`` saying what is wrong.
"""

from __future__ import annotations

import re
import uuid

from setrum_common.errors import DomainError, ErrorCode

from ..passwords import password_weaknesses

__all__ = [
    "check_password",
    "duplicate_email",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "parse_customer_id",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
MAX_NAME_LENGTH = 100


def normalize_email(email: str) -> str:
    """Trimmed and lower-cased, so uniqueness is case-insensitive (``Siti@X.id`` == ``siti@x.id``)."""
    value = email.strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT, f"'{email.strip()[:60]}' is not a valid email address", field="email"
        )
    return value


def normalize_phone(phone: str | None) -> str | None:
    """An Indonesian number in E.164 form (``+62`` then 8–12 digits), or ``None`` when empty.

    Accepts the usual ways people write it: ``0812-3456-7890``, ``62 812 3456 7890``, ``+62812…``.
    """
    if phone is None or not phone.strip():
        return None
    digits = _PHONE_SEPARATORS.sub("", phone.strip())
    if digits.startswith("+62"):
        national = digits[3:]
    elif digits.startswith("62"):
        national = digits[2:]
    elif digits.startswith("0"):
        national = digits[1:]
    else:
        national = ""
    if not (national.isdigit() and national.isascii() and 8 <= len(national) <= 12 and national[0] != "0"):
        raise DomainError(
            ErrorCode.BAD_USER_INPUT,
            f"'{phone.strip()[:30]}' is not an Indonesian phone number (expected e.g. 0812-3456-7890 or +62812…)",
            field="phone",
        )
    return "+62" + national


def normalize_name(name: str) -> str:
    value = " ".join(name.split())
    if not value:
        raise DomainError(ErrorCode.BAD_USER_INPUT, "Name must not be empty", field="name")
    if len(value) > MAX_NAME_LENGTH:
        raise DomainError(ErrorCode.BAD_USER_INPUT, f"Name must be at most {MAX_NAME_LENGTH} characters", field="name")
    return value


def parse_customer_id(value: str) -> str | None:
    """The canonical form of a customer id, or ``None`` when it cannot be one (so: not found)."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def duplicate_email() -> DomainError:
    return DomainError(ErrorCode.DUPLICATE_EMAIL, "An account with this email address already exists")


def check_password(password: str, email: str) -> None:
    reasons = password_weaknesses(password, email)
    if reasons:
        raise DomainError(ErrorCode.WEAK_PASSWORD, "Password is too weak: it " + "; it ".join(reasons), reasons=reasons)
