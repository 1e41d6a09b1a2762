"""The money rules of the ledger, as pure functions: no ORM, no HTTP.

Amounts are integers in fen, rates integers in basis points. Every division
rounds down and the remainder has one named owner (the margin, or the largest
line), so parts always add up to the whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from kinshop.core.errors import InvalidInput
from kinshop.core.money import apply_rate


@dataclass(frozen=True)
class Split:
    """Who gets what of a paid order line: supplier S×qty, platform fee F,
    the sharer's commission C, the shopkeeper's margin M."""

    supplier: int
    fee: int
    commission: int
    margin: int

    @property
    def total(self) -> int:
        return self.supplier + self.fee + self.commission + self.margin

    def parts(self) -> dict[str, int]:
        return {
            "supplier": self.supplier,
            "fee": self.fee,
            "commission": self.commission,
            "margin": self.margin,
        }

    def __sub__(self, other: Split) -> Split:
        return Split(
            supplier=self.supplier - other.supplier,
            fee=self.fee - other.fee,
            commission=self.commission - other.commission,
            margin=self.margin - other.margin,
        )


ZERO = Split(supplier=0, fee=0, commission=0, margin=0)


def split_line(paid: int, supply: int, commission_bp: int, fee_bp: int) -> Split:
    """Commission and fee round down; the margin takes the remainder, so the parts
    always add up to what was paid. A line without a commission beneficiary is
    split with `commission_bp=0`. A negative margin is refused: the price band
    exists to make it impossible."""
    if paid < 0 or supply < 0:
        raise InvalidInput("Amounts must not be negative.", code="negative_amount")
    commission = apply_rate(paid, commission_bp)
    fee = apply_rate(paid, fee_bp)
    margin = paid - supply - fee - commission
    if margin < 0:
        raise InvalidInput(
            "The price does not cover supply, fee and commission.",
            code="negative_margin",
            paid=paid,
            supply=supply,
        )
    return Split(supplier=supply, fee=fee, commission=commission, margin=margin)


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


def allocate_refund(amount: int, lines: list[tuple[int, int]]) -> dict[int, int]:
    """Spread a refund over lines pro rata to what each can still be refunded.

    `lines` are `(line_id, refundable_remaining)`. Each share rounds down; the fen
    left over go one each to the lines with the most remaining (ties: lowest id),
    never past a line's remaining. Returns `{line_id: amount}` for the lines that
    receive something; the amounts sum to `amount` exactly."""
    if amount < 0 or any(remaining < 0 for _, remaining in lines):
        raise InvalidInput("Refund amounts must not be negative.", code="negative_amount")
    available = sum(remaining for _, remaining in lines)
    if amount > available:
        raise InvalidInput(
            "The refund is more than what is left to refund.",
            code="refund_exceeds_refundable",
            amount=amount,
            refundable=available,
        )
    if amount == 0:
        return {}
    shares = {line_id: amount * remaining // available for line_id, remaining in lines}
    left = amount - sum(shares.values())
    # Each share is strictly below its line's remaining unless amount == available
    # (then nothing is left over), and fewer fen are left than lines with money,
    # so one pass in this order always suffices.
    for line_id, remaining in sorted(lines, key=lambda item: (-item[1], item[0])):
        if left == 0:
            break
        if shares[line_id] < remaining:
            shares[line_id] += 1
            left -= 1
    assert left == 0, "allocation must be exact"
    return {line_id: shares[line_id] for line_id, _ in lines if shares[line_id] > 0}
