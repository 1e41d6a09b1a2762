"""Pure rules of ordering: line limits, addresses, windows, and how a refund
falls on the lines it covers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from kinshop.accounts.rules import is_valid_phone, normalise_phone
from kinshop.core.errors import InvalidInput

MAX_DISTINCT_LINES = 50
MAX_QUANTITY = 999


@dataclass(frozen=True)
class LineRequest:
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    region: str
    detail: str


def merge_lines(lines: Iterable[LineRequest]) -> dict[int, int]:
    """SKU id → total quantity, refusing what no real basket holds.
    Returns the merged quantities, or raises ValueError with a reason code."""
    merged: dict[int, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise ValueError("quantity_not_positive")
        merged[line.sku_id] = merged.get(line.sku_id, 0) + line.quantity
    if not merged:
        raise ValueError("no_lines")
    if len(merged) > MAX_DISTINCT_LINES:
        raise ValueError("too_many_lines")
    if any(quantity > MAX_QUANTITY for quantity in merged.values()):
        raise ValueError("quantity_too_large")
    return merged


def address_problem(address: Address) -> str | None:
    if not 1 <= len(address.name.strip()) <= 60:
        return "invalid_recipient_name"
    if not is_valid_phone(normalise_phone(address.phone)):
        return "invalid_phone"
    if not 1 <= len(address.region.strip()) <= 120:
        return "invalid_region"
    if not 1 <= len(address.detail.strip()) <= 255:
        return "invalid_address"
    return None


def unpaid_units_over_cap(
    *, requested: dict[int, int], unpaid: dict[int, int], cap: int
) -> list[int]:
    """The SKUs of which a buyer would hold more than `cap` unpaid units if this
    order (`requested`: SKU id → units) joined the ones they have not paid yet
    (`unpaid`, their linked identities' included), so that stock cannot be
    locked up by orders that are never paid (DESIGN.md section 4)."""
    return sorted(
        sku_id for sku_id, quantity in requested.items() if quantity + unpaid.get(sku_id, 0) > cap
    )


def after_sales_open(*, completed_at: dt.datetime | None, now: dt.datetime, days: int) -> bool:
    """A buyer may ask for a refund until `days` after the order completed."""
    return completed_at is None or now < completed_at + dt.timedelta(days=days)


def is_due(*, since: dt.datetime | None, now: dt.datetime, days: int = 0, minutes: int = 0) -> bool:
    return since is not None and since + dt.timedelta(days=days, minutes=minutes) <= now


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
