"""Pure rules of sharing: share codes, channels and who may earn a commission.

No ORM and no HTTP here, so every rule is unit-tested without a database."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

# Base32-like, without the characters people confuse when they read a poster
# aloud or type it: 0/O, 1/I/l, and without vowels that spell words.
CODE_ALPHABET = "23456789bcdfghjkmnpqrstvwxyz"
CODE_LENGTH = 10  # 28**10 ≈ 2.96e14: not worth guessing, short enough to type.
CODE_PATTERN = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")

CHANNELS = ("link", "qr", "live", "offline")

LAST_CLICK = "last_click"
BINDING = "binding"
POLICIES = (LAST_CLICK, BINDING)

# Why a sharer earns nothing on a purchase; stored on the order line as evidence.
SELF_REFERRAL = "self_referral"
LINKED_IDENTITY = "linked_identity"
SHOPKEEPER = "shopkeeper"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_well_formed_code(code: str) -> bool:
    return bool(CODE_PATTERN.match(code))


def is_valid_channel(channel: str) -> bool:
    return channel in CHANNELS


def click_window(at: dt.datetime, *, minutes: int) -> int:
    """The number of the window of `minutes` that `at` falls in, counted from
    the Unix epoch: one visitor's clicks on one link count once per window."""
    return int(at.timestamp()) // (max(minutes, 1) * 60)


def policy_of(setting: str) -> str:
    """The operator's policy; anything unknown means the default, last click."""
    return setting if setting in POLICIES else LAST_CLICK


def normalise_phone(phone: str) -> str:
    """Digits only, without the Chinese country code, so '+86 138-0013-8000' and
    '13800138000' are the same person."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class Person:
    """What identifies someone for the linked-identity rule."""

    id: int
    phone: str = ""
    email: str = ""
    recipient_phones: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *, id: int, phone: str, email: str, recipient_phones: Iterable[str] = ()):
        return cls(
            id=id,
            phone=normalise_phone(phone),
            email=normalise_email(email),
            recipient_phones=frozenset(
                p for p in (normalise_phone(r) for r in recipient_phones) if p
            ),
        )


def ineligibility(*, sharer: Person, buyer: Person, shopkeeper_id: int) -> str:
    """Why `sharer` may not earn on `buyer`'s purchase in that shop, or "".

    One level and no self-dealing: not the buyer, not a linked identity of the
    buyer (same phone, same e-mail, or a phone one of them ships orders to), and
    not the shopkeeper, who earns the margin instead."""
    if sharer.id == buyer.id:
        return SELF_REFERRAL
    if sharer.id == shopkeeper_id:
        return SHOPKEEPER
    if sharer.phone and sharer.phone == buyer.phone:
        return LINKED_IDENTITY
    if sharer.email and sharer.email == buyer.email:
        return LINKED_IDENTITY
    if sharer.phone and sharer.phone in buyer.recipient_phones:
        return LINKED_IDENTITY
    if buyer.phone and buyer.phone in sharer.recipient_phones:
        return LINKED_IDENTITY
    return ""


def commission_of(line_total: int, commission_rate_bp: int) -> int:
    """The sharer's commission on a line, rounded down to the fen."""
    return line_total * commission_rate_bp // 10_000
