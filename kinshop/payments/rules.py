"""Pure rules of payments: no ORM, no HTTP."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

K = TypeVar("K")

RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 60 * 60


def retry_delay_seconds(attempt: int) -> int:
    """How long to wait before attempt number `attempt` (1 is the first) of a
    money call at a provider: 30 s, then doubling, never more than six hours. The
    first attempt is made at once; this delay is then how long a process may
    take to carry it out before another one tries again."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    return min(RETRY_FIRST_SECONDS * 2 ** min(attempt - 1, 30), RETRY_MAX_SECONDS)


def split_refund(amount: int, left: Sequence[tuple[K, int]]) -> list[tuple[K, int]] | None:
    """How a refund of `amount` goes back through the payments that took the
    money: `left` is each payment (its key) with what is still refundable on
    it, in the order to draw from (a pre-sale's balance before its deposit).
    Each payment carries as much as it can before the next is used, so a refund
    one payment covers is one part. Returns the parts `(key, fen)`, each
    positive, summing to `amount`; None when all the payments together cannot
    carry it."""
    if amount < 1:
        raise ValueError("a refund is at least 1 fen")
    parts: list[tuple[K, int]] = []
    rest = amount
    for key, available in left:
        if rest == 0:
            break
        part = min(rest, max(available, 0))
        if part:
            parts.append((key, part))
            rest -= part
    return parts if rest == 0 else None
