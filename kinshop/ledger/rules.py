"""The money rules of the ledger, as pure functions: no ORM, no HTTP. The split
of a paid line is `catalog.rules.split_line`; a refund's allocation over lines is
`orders.rules.allocate_refund`; here, how refunds reverse a split.

Amounts are integers in fen, rates integers in basis points. Every division
rounds down and the remainder has one named owner (the margin, or the largest
line), so parts always add up to the whole.
"""

from __future__ import annotations

from kinshop.catalog.rules import ZERO, Split
from kinshop.core.errors import InvalidInput


def repay_debts(amount: int, debts: dict[str, int]) -> dict[str, int]:
    """How much of a withdrawal of `amount` repays each debt (owner key → fen
    owed) before anything is paid out: the debts in key order, each in full
    while the amount lasts. Never more than the amount, nor than a debt."""
    if amount < 0 or any(debt < 0 for debt in debts.values()):
        raise InvalidInput("Amounts must not be negative.", code="negative_amount")
    repayments: dict[str, int] = {}
    left = amount
    for key in sorted(debts):
        repayment = min(left, debts[key])
        if repayment:
            repayments[key] = repayment
            left -= repayment
    return repayments


def reversed_to_date(split: Split, paid: int, refunded: int) -> Split:
    """How much of `split` the refunds of a line reverse in total once `refunded`
    of `paid` has gone back: each of supplier, fee and commission its share
    rounded down, the margin the remainder. At `refunded == paid` it is `split`."""
    if paid <= 0:
        return ZERO
    supplier = split.supplier * refunded // paid
    fee = split.fee * refunded // paid
    commission = split.commission * refunded // paid
    return Split(
        supplier=supplier,
        fee=fee,
        commission=commission,
        margin=refunded - supplier - fee - commission,
    )


def reverse_split(split: Split, paid: int, refunded_before: int, refunded_now: int) -> Split:
    """What this refund reverses: the cumulative reversal at the new refunded
    total minus the one at the old. The parts sum to `refunded_now`; all refunds of
    a line together reverse at most what was paid, and a full refund reverses the
    split exactly. (The margin, being the remainder, may move by a fen either way
    on a partial refund and is trued up by the last one.)"""
    if refunded_before < 0 or refunded_now < 0:
        raise InvalidInput("Refund amounts must not be negative.", code="negative_amount")
    if refunded_before + refunded_now > paid:
        raise InvalidInput(
            "A line cannot be refunded more than was paid for it.",
            code="refund_exceeds_paid",
            paid=paid,
            refunded_before=refunded_before,
            refunded_now=refunded_now,
        )
    return reversed_to_date(split, paid, refunded_before + refunded_now) - reversed_to_date(
        split, paid, refunded_before
    )
