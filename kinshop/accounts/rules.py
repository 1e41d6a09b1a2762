"""Pure rules about people: token format, ID numbers, roles."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

TOKEN_PREFIX = "ks_"
# ASCII digits only: `\d` also matches full-width and other scripts' digits, which
# would give one ID number or phone several "canonical" forms (and hashes).
_ID_NUMBER = re.compile(r"(?:[0-9]{17}[0-9X]|[0-9]{15})")
_USERNAME = re.compile(r"[\w.@+-]{3,150}")
_PHONE = re.compile(r"\+?[0-9]{6,20}")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_id_number(id_number: str) -> str | None:
    """Resident ID number (居民身份证号): 18 characters (17 digits and a digit or
    X) or the old 15 digits. Returns the canonical form, or None when malformed."""
    value = id_number.strip().upper().replace(" ", "")
    return value if _ID_NUMBER.fullmatch(value) else None


def mask_id_number(id_number: str) -> str:
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def hash_id_number(id_number: str, secret: str) -> str:
    return hmac.new(secret.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def is_valid_username(username: str) -> bool:
    return bool(_USERNAME.fullmatch(username))


def normalise_phone(phone: str) -> str:
    digits = re.sub(r"[\s-]", "", phone or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def is_valid_phone(phone: str) -> bool:
    return bool(_PHONE.fullmatch(phone))


def roles_for(*, is_operator: bool, has_shop: bool, is_supplier_staff: bool) -> list[str]:
    """Roles are derived from what a user is; consumer and sharer are everyone's."""
    roles = ["consumer", "sharer"]
    if has_shop:
        roles.append("shopkeeper")
    if is_supplier_staff:
        roles.append("supplier")
    if is_operator:
        roles.append("operator")
    return roles
