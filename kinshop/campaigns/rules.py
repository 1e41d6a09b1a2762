"""Pure rules of campaigns: prices that keep the money split of every order
true, the limits of a group buy and a flash sale, and a sale's phase."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kinshop.catalog import rules as catalog_rules

MIN_GROUP_SIZE, MAX_GROUP_SIZE = 2, 50
MIN_GROUP_HOURS, MAX_GROUP_HOURS = 1, 72
MAX_PAYMENT_MINUTES = 24 * 60


@dataclass(frozen=True)
class SkuTerms:
    """What a campaign price must respect: the supplier's band and costs."""

    supply_price: int
    retail_min: int
    retail_max: int
    commission_bp: int
    fee_bp: int


def price_problem(price: int, sku: SkuTerms) -> str | None:
    """A campaign price stays inside the SKU's retail band and covers the
    supply price, the platform fee and the commission a sharer could earn on
    it (the margin is never negative). Returns a reason code, or None."""
    if not catalog_rules.is_in_band(price, retail_min=sku.retail_min, retail_max=sku.retail_max):
        return "price_outside_band"
    if not catalog_rules.margin_is_covered(
        price=price,
        supply_price=sku.supply_price,
        commission_bp=sku.commission_bp,
        fee_bp=sku.fee_bp,
    ):
        return "price_below_cost"
    return None


def group_buy_problem(
    *,
    group_size: int,
    hours: int,
    ends_at: dt.datetime,
    now: dt.datetime,
    group_price: int,
    leader_price: int | None,
) -> str | None:
    if not MIN_GROUP_SIZE <= group_size <= MAX_GROUP_SIZE:
        return "invalid_group_size"
    if not MIN_GROUP_HOURS <= hours <= MAX_GROUP_HOURS:
        return "invalid_hours"
    if ends_at <= now:
        return "ends_in_the_past"
    if leader_price is not None and leader_price > group_price:
        return "leader_price_above_group_price"
    return None


def flash_sale_problem(
    *,
    units: int,
    per_buyer_limit: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    payment_minutes: int,
    now: dt.datetime,
) -> str | None:
    if units < 1:
        return "invalid_units"
    if not 1 <= per_buyer_limit <= units:
        return "invalid_per_buyer_limit"
    if ends_at <= starts_at:
        return "invalid_window"
    if ends_at <= now:
        return "ends_in_the_past"
    if not 1 <= payment_minutes <= MAX_PAYMENT_MINUTES:
        return "invalid_payment_minutes"
    return None


def flash_phase(
    *,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    ended_at: dt.datetime | None,
    now: dt.datetime,
) -> str:
    """scheduled before the window, live inside it, ended after it or once its
    shop ended it early (`ended_at`, whenever that was)."""
    if ended_at is not None:
        return "ended"
    if now < starts_at:
        return "scheduled"
    if now < ends_at:
        return "live"
    return "ended"


def group_expiry(*, started_at: dt.datetime, hours: int) -> dt.datetime:
    return started_at + dt.timedelta(hours=hours)


def group_outcome(*, size: int, paid: int, expired: bool) -> str:
    """What a group is: succeeded with all `size` members paid, failed when its
    time ran out before that, forming otherwise."""
    if paid >= size:
        return "succeeded"
    return "failed" if expired else "forming"


def presale_problem(
    *,
    price: int,
    deposit: int,
    balance_starts_at: dt.datetime,
    balance_ends_at: dt.datetime,
    ships_on: dt.date,
    now: dt.datetime,
) -> str | None:
    """A deposit of 1 fen up to the price; a balance window that ends after it
    opens, in the future; shipping no earlier than the window opens."""
    if not 1 <= deposit <= price:
        return "invalid_deposit"
    if balance_ends_at <= balance_starts_at:
        return "invalid_balance_window"
    if balance_ends_at <= now:
        return "ends_in_the_past"
    if ships_on < balance_starts_at.date():
        return "ships_before_balance"
    return None


def presale_amounts(*, price: int, deposit: int, quantity: int) -> tuple[int, int]:
    """(deposit due, balance due) of `quantity` units: together the whole price."""
    return deposit * quantity, (price - deposit) * quantity
