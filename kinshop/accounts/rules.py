"""Pure rules about people: token format, ID numbers, phones, linked identities, roles."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Iterable

TOKEN_PREFIX = "ks_"
# ASCII digits only: `\d` also matches full-width and other scripts' digits, which
# would give one ID number or phone several "canonical" forms (and hashes).
_ID_NUMBER = re.compile(r"(?:[0-9]{17}[0-9X]|[0-9]{15})")
_USERNAME = re.compile(r"[\w.@+-]{3,150}")
_PHONE = re.compile(r"\+?[0-9]{6,20}")
PHONE_MAX_LENGTH = 20


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


# What people type between the digits of a phone number: spaces of every
# kind, hyphens and dashes, dots, brackets, slashes.
_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc.()/\\]")
# A mainland mobile number: 11 digits starting with 1.
_MAINLAND_MOBILE = re.compile(r"1[0-9]{10}")


def normalise_phone(phone: str) -> str:
    """The one canonical form of a phone number, used wherever a phone is stored
    or compared (registration, recipient phones, linked identities): how it was
    typed makes no difference.

    Full-width and other scripts' digits become ASCII digits (NFKC, then any
    decimal digit), separators go, and China's country code goes whichever way
    it was written: `+86`, `0086`, or a bare `86` in front of a mobile number
    (a landline keeps its trunk 0: `+86 571 …` is `0571…`).
    Other countries keep it as `+<code>` (an international `00` prefix becomes
    `+`). Anything that is not a phone number comes back cleaned but otherwise
    as it was, for `is_valid_phone` to refuse."""
    text = unicodedata.normalize("NFKC", phone or "")
    text = "".join(str(unicodedata.decimal(char)) if char.isdecimal() else char for char in text)
    # Again after the separators go: a letter and a combining mark they kept
    # apart would compose now, and normalising twice must change nothing.
    text = unicodedata.normalize("NFKC", _PHONE_SEPARATORS.sub("", text))
    if text.startswith("+"):
        international = text[1:]
    elif text.startswith("00"):
        international = text[2:]
    else:
        if text.startswith("86") and _MAINLAND_MOBILE.fullmatch(text[2:]):
            return text[2:]
        return text
    if international.startswith("86"):
        national = international[2:]
        # A landline's area code is dialled with a trunk 0 at home (0571 …).
        return national if national.startswith(("0", "1")) or not national else "0" + national
    return "+" + international


def is_valid_phone(phone: str) -> bool:
    """A phone number in its canonical form (see `normalise_phone`), short
    enough to store (20 characters)."""
    return len(phone) <= PHONE_MAX_LENGTH and bool(_PHONE.fullmatch(phone))


# Linked identities (DESIGN.md section 3): what two accounts of one person share.
PHONE = "phone"  # the account's phone, or a phone one of its orders shipped to
DEVICE = "device"  # the long-lived device cookie, or an app's X-Device-Id
PAYER = "payer"  # the payer's account at a payment provider, as "<provider>:<id>"
IDENTIFIER_KINDS = (PHONE, DEVICE, PAYER)
IDENTIFIER_MAX_LENGTH = 80

Identifier = tuple[str, str]  # (kind, canonical value)


def identifiers(
    *, phones: Iterable[str] = (), devices: Iterable[str] = (), payers: Iterable[str] = ()
) -> frozenset[Identifier]:
    """The canonical identifiers of one person: phones normalised, empty values
    dropped (an empty phone links nobody), values cut to what is stored."""
    found: set[Identifier] = set()
    for kind, values, canonical in (
        (PHONE, phones, normalise_phone),
        (DEVICE, devices, str.strip),
        (PAYER, payers, str.strip),
    ):
        for value in values:
            value = canonical(value or "")[:IDENTIFIER_MAX_LENGTH]
            if value:
                found.add((kind, value))
    return frozenset(found)


def payer_identifier(provider: str, payer_id: str) -> str:
    """A payer account is unique per provider: WeChat's openid and a bank's
    account number never collide."""
    payer_id = (payer_id or "").strip()
    return f"{provider}:{payer_id}"[:IDENTIFIER_MAX_LENGTH] if payer_id else ""


def shared_identifier(first: frozenset[Identifier], second: frozenset[Identifier]) -> str:
    """What links two people, or "": the kind of an identifier both have
    (phone before device before payer, so the evidence reads the same each time)."""
    shared = first & second
    for kind in IDENTIFIER_KINDS:
        if any(identifier[0] == kind for identifier in shared):
            return kind
    return ""


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
