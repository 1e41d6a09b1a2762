"""Pure rules of sharing: share codes, channels and who may earn a commission.

No ORM and no HTTP here, so every rule is unit-tested without a database."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from kinshop.accounts.rules import Identifier, identifiers, shared_identifier

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


def channel_of_opening(channel: str, *, is_live_room: bool) -> str:
    """A plain opening of a live room's link is a `live` click: the viewer came
    into the room. A poster's QR code or an offline hand-out keeps its channel."""
    return "live" if is_live_room and channel == "link" else channel


def click_window(at: dt.datetime, *, minutes: int) -> int:
    """The number of the window of `minutes` that `at` falls in, counted from
    the Unix epoch: one visitor's clicks on one link count once per window."""
    return int(at.timestamp()) // (max(minutes, 1) * 60)


def policy_of(setting: str) -> str:
    """The operator's policy; anything unknown means the default, last click."""
    return setting if setting in POLICIES else LAST_CLICK


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


@dataclass(frozen=True)
class Person:
    """What identifies someone for the linked-identity rule: their e-mail and
    their identifiers (phones, devices, payer accounts; see
    `accounts.rules.identifiers`)."""

    id: int
    email: str = ""
    identifiers: frozenset[Identifier] = frozenset()

    @classmethod
    def of(
        cls,
        *,
        id: int,
        phone: str = "",
        email: str = "",
        recipient_phones: Iterable[str] = (),
        devices: Iterable[str] = (),
        payers: Iterable[str] = (),
        known: Iterable[Identifier] = (),
    ) -> Person:
        """`known` are identifiers already canonical (as stored)."""
        return cls(
            id=id,
            email=normalise_email(email),
            identifiers=frozenset(known)
            | identifiers(phones=[phone, *recipient_phones], devices=devices, payers=payers),
        )


def linked_by(first: Person, second: Person) -> str:
    """How two people are one for commission, or "": a phone, device or payer
    account in common (DESIGN.md section 3), or the same e-mail."""
    if first.id == second.id:
        return "same account"
    if kind := shared_identifier(first.identifiers, second.identifiers):
        return f"same {kind}"
    if first.email and first.email == second.email:
        return "same e-mail"
    return ""


@dataclass(frozen=True)
class Refusal:
    """Why a would-be sharer earns nothing on a purchase: a code (one of
    SELF_REFERRAL, LINKED_IDENTITY, SHOPKEEPER) and the evidence in words."""

    code: str
    evidence: str

    def __bool__(self) -> bool:
        return bool(self.code)


ELIGIBLE = Refusal("", "")


def refusal(*, sharer: Person, buyer: Person, shopkeeper: Person) -> Refusal:
    """Why `sharer` may not earn on `buyer`'s purchase in `shopkeeper`'s shop.

    One level and no self-dealing: not the buyer, not a linked identity of the
    buyer (same phone, device or payer account, or same e-mail), and not the
    shopkeeper or a linked identity of theirs, who earns the margin instead."""
    if sharer.id == buyer.id:
        return Refusal(SELF_REFERRAL, "the sharer is the buyer")
    if sharer.id == shopkeeper.id:
        return Refusal(SHOPKEEPER, "the sharer keeps this shop")
    if link := linked_by(sharer, buyer):
        return Refusal(LINKED_IDENTITY, f"the sharer and the buyer: {link}")
    if link := linked_by(sharer, shopkeeper):
        return Refusal(SHOPKEEPER, f"the sharer and the shopkeeper: {link}")
    return ELIGIBLE


def ineligibility(*, sharer: Person, buyer: Person, shopkeeper_id: int) -> str:
    """The code of `refusal` when only the shopkeeper's id is known, or ""."""
    return refusal(sharer=sharer, buyer=buyer, shopkeeper=Person(id=shopkeeper_id)).code


def commission_of(line_total: int, commission_rate_bp: int) -> int:
    """The sharer's commission on a line, rounded down to the fen."""
    return line_total * commission_rate_bp // 10_000
