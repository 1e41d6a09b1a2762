"""Pure rules about people: token format, ID numbers, roles."""

from __future__ import annotations

import datetime as dt
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


# GB 11643-1999: the 18th character of a resident ID number is a check over the
# first 17 digits (ISO 7064 MOD 11-2), so one mistyped digit never verifies.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARACTERS = "10X98765432"


def id_check_character(first_17_digits: str) -> str:
    """The GB 11643 check character ('0'-'9' or 'X') of 17 ASCII digits."""
    total = sum(
        int(digit) * weight for digit, weight in zip(first_17_digits, _ID_WEIGHTS, strict=True)
    )
    return _ID_CHECK_CHARACTERS[total % 11]


def normalise_id_number(id_number: str) -> str | None:
    """Resident ID number (居民身份证号): 18 characters (17 digits and a check
    digit or X that must match them, GB 11643) or the old 15 digits, which are
    the same person's 18 (born in the 1900s) and so become them. Returns the
    canonical 18-character form, or None when malformed."""
    value = id_number.strip().upper().replace(" ", "")
    if not _ID_NUMBER.fullmatch(value):
        return None
    if len(value) == 15:
        first_17 = value[:6] + "19" + value[6:]
        return first_17 + id_check_character(first_17)
    return value if id_check_character(value[:17]) == value[17] else None


def mask_id_number(id_number: str) -> str:
    return id_number[:3] + "*" * (len(id_number) - 7) + id_number[-4:]


def hash_id_number(id_number: str, secret: str) -> str:
    return hmac.new(secret.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def password_fingerprint(password_hash: str, secret: str) -> str:
    """A keyed digest of the user's password hash, kept on each token: when the
    password changes (by any path: the API, a page, the admin, a command) the
    fingerprint no longer matches and every token of the user stops working."""
    return hmac.new(
        secret.encode(), b"kinshop.api-token:" + password_hash.encode(), hashlib.sha256
    ).hexdigest()


# A token's last use is written at most this often: reading a token is every
# request, writing it must not be.
TOKEN_TOUCH_INTERVAL = dt.timedelta(hours=1)


def is_token_idle(
    *, created_at: dt.datetime, last_used_at: dt.datetime | None, now: dt.datetime, idle_days: int
) -> bool:
    """A token unused for `idle_days` has expired (its last use, or its
    creation when it was never used, is that old)."""
    return now - (last_used_at or created_at) >= dt.timedelta(days=idle_days)


def needs_touch(last_used_at: dt.datetime | None, now: dt.datetime) -> bool:
    return last_used_at is None or now - last_used_at >= TOKEN_TOUCH_INTERVAL


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
