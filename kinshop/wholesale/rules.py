"""Pure rules of wholesale: tier prices, the holding cap against 压货, and how
many units a shop holds. No ORM, no HTTP; property-tested."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_TIERS = 10
MAX_TIER_QUANTITY = 999  # the most units of one SKU an order may carry (orders.rules)
MAX_UNIT_PRICE = 10**12


@dataclass(frozen=True)
class Tier:
    min_quantity: int
    unit_price: int


def tiers_problem(tiers: Sequence[Tier], *, supply_price: int) -> str | None:
    """Why a SKU's tiers cannot stand, or None. In order of quantity, each tier
    starts at a larger quantity than the one before and costs strictly less per
    unit; none costs more than the supply price, so buying wholesale is never
    dearer than the drop-ship supply price. No tiers at all is allowed: the SKU
    is then not sold wholesale."""
    if len(tiers) > MAX_TIERS:
        return "too_many_tiers"
    for tier in tiers:
        if not 1 <= tier.min_quantity <= MAX_TIER_QUANTITY:
            return "invalid_min_quantity"
        if not 1 <= tier.unit_price <= MAX_UNIT_PRICE:
            return "invalid_unit_price"
        if tier.unit_price > supply_price:
            return "tier_above_supply_price"
    ordered = sorted(tiers, key=lambda tier: tier.min_quantity)
    for lower, higher in itertools.pairwise(ordered):
        if lower.min_quantity == higher.min_quantity:
            return "duplicate_min_quantity"
        if higher.unit_price >= lower.unit_price:
            return "tier_prices_not_falling"
    return None


def tier_price(tiers: Iterable[Tier], quantity: int) -> int | None:
    """The unit price of `quantity` units: the tier with the largest minimum
    quantity not above it, or None when the quantity is below every tier."""
    best: Tier | None = None
    for tier in tiers:
        if tier.min_quantity <= quantity and (
            best is None or tier.min_quantity > best.min_quantity
        ):
            best = tier
    return None if best is None else best.unit_price


def minimum_quantity(tiers: Iterable[Tier]) -> int | None:
    return min((tier.min_quantity for tier in tiers), default=None)


def holding_cap(*, floor: int, sold_offline_30_days: int) -> int:
    """The most unsold units of one SKU a shop may hold: max(floor, twice what it
    sold offline in the last 30 days). A shop proves it can sell before it may
    stock more; nobody can push stock onto a shop that does not sell it."""
    return max(floor, 2 * sold_offline_30_days)


@dataclass(frozen=True)
class Counts:
    """One holding's units. `bought` are units on shipped wholesale lines;
    `returned` units under a return that was not rejected; `on_order` units on
    wholesale orders placed but not yet shipped (awaiting payment or shipment)."""

    bought: int = 0
    sold_offline: int = 0
    returned: int = 0
    on_order: int = 0

    @property
    def held(self) -> int:
        """Units the shop has in hand, unsold."""
        return self.bought - self.sold_offline - self.returned

    @property
    def unsold(self) -> int:
        """What the cap counts: held, plus what is on its way."""
        return self.held + self.on_order


@dataclass(frozen=True)
class CapCheck:
    unsold: int
    ordering: int
    cap: int

    @property
    def allowed(self) -> bool:
        return self.unsold + self.ordering <= self.cap

    @property
    def room(self) -> int:
        """How many more units could be ordered now."""
        return max(0, self.cap - self.unsold)


def check_cap(*, counts: Counts, ordering: int, floor: int, sold_offline_30_days: int) -> CapCheck:
    return CapCheck(
        unsold=counts.unsold,
        ordering=ordering,
        cap=holding_cap(floor=floor, sold_offline_30_days=sold_offline_30_days),
    )


def held_since(
    shipments: Iterable[tuple[dt.datetime, int]], *, consumed: int
) -> dt.datetime | None:
    """When the oldest unit still held arrived, first in first out: the units
    sold offline or returned (`consumed`) are taken from the earliest shipments.
    None when nothing is held."""
    for at, quantity in sorted(shipments, key=lambda shipment: shipment[0]):
        if consumed < quantity:
            return at
        consumed -= quantity
    return None


@dataclass(frozen=True)
class Reach:
    """Retail reach: units that reached a consumer ÷ units that left suppliers.
    Drop-shipped units reach the consumer by construction; wholesale units reach
    one when sold offline. Units returned to the supplier never left for good."""

    drop_shipped: int
    wholesale_shipped: int
    sold_offline: int
    returned: int

    @property
    def units_left_suppliers(self) -> int:
        return self.drop_shipped + self.wholesale_shipped - self.returned

    @property
    def units_reached_consumers(self) -> int:
        return self.drop_shipped + self.sold_offline

    @property
    def units_held(self) -> int:
        return self.wholesale_shipped - self.returned - self.sold_offline

    @property
    def rate(self) -> float:
        """1.0 when nothing has left a supplier: nothing was pushed anywhere."""
        left = self.units_left_suppliers
        return 1.0 if left <= 0 else self.units_reached_consumers / left
