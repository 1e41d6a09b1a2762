"""Pure rules of ordering: line limits, addresses, windows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

MAX_DISTINCT_LINES = 50
MAX_QUANTITY = 999
_PHONE = re.compile(r"^\+?[\d\s-]{6,20}$")


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
    if not _PHONE.match(address.phone.strip()):
        return "invalid_phone"
    if not 1 <= len(address.region.strip()) <= 120:
        return "invalid_region"
    if not 1 <= len(address.detail.strip()) <= 255:
        return "invalid_address"
    return None


def after_sales_open(*, completed_at: dt.datetime | None, now: dt.datetime, days: int) -> bool:
    """A buyer may ask for a refund until `days` after the order completed."""
    return completed_at is None or now < completed_at + dt.timedelta(days=days)


def is_due(*, since: dt.datetime | None, now: dt.datetime, days: int = 0, minutes: int = 0) -> bool:
    return since is not None and since + dt.timedelta(days=days, minutes=minutes) <= now
