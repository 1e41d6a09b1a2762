"""Pure rules of the supply market: price bands, commission caps, and the split
of a paid line between supplier, platform, sharer and shopkeeper (every app
above prices with it: orders check a price covers its costs, the ledger books
the split, the consoles preview it)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from kinshop.core.errors import InvalidInput
from kinshop.core.money import BASIS_POINTS, apply_rate


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


def split_wholesale_line(paid: int, fee_bp: int) -> Split:
    """A wholesale line (the shop buying stock): the platform fee at the usual
    rate, rounded down, and the rest to the supplier. No commission and no
    margin: buying stock never earns anyone anything."""
    if paid < 0:
        raise InvalidInput("Amounts must not be negative.", code="negative_amount")
    fee = apply_rate(paid, fee_bp)
    return Split(supplier=paid - fee, fee=fee, commission=0, margin=0)


@dataclass(frozen=True)
class SkuPricing:
    supply_price: int
    retail_min: int
    retail_max: int
    suggested_retail_price: int


def pricing_problem(pricing: SkuPricing, *, commission_bp: int, fee_bp: int) -> str | None:
    """Why a SKU's prices cannot work, or None when they can.

    The band must leave the shopkeeper a margin M = P − S − F − C ≥ 0 at every
    price P in it (see `band_is_covered`).
    """
    if min(pricing.supply_price, pricing.retail_min, pricing.retail_max) < 0:
        return "negative_price"
    if pricing.retail_min > pricing.retail_max:
        return "band_inverted"
    if not pricing.retail_min <= pricing.suggested_retail_price <= pricing.retail_max:
        return "suggested_price_out_of_band"
    if not band_is_covered(
        retail_min=pricing.retail_min,
        retail_max=pricing.retail_max,
        supply_price=pricing.supply_price,
        commission_bp=commission_bp,
        fee_bp=fee_bp,
    ):
        return "band_below_cost"
    return None


def band_is_covered(
    *, retail_min: int, retail_max: int, supply_price: int, commission_bp: int, fee_bp: int
) -> bool:
    """True when every price in [retail_min, retail_max] leaves a margin ≥ 0.

    The floor of the band is not always the worst price: where fee and commission
    both round up by a fen at the same price, the margin drops by one (5% fee, 30%
    commission, S = 14: M(19) = 19 − 14 − 0 − 5 = 0 but M(20) = 20 − 14 − 1 − 6 = −1).
    Both rounded parts repeat every `period` prices while the margin drifts by a
    constant, so the lowest margin lies in the band's first period when the drift
    is ≥ 0 and in its last one otherwise: checking both is exact.
    """
    kept_bp = BASIS_POINTS - fee_bp - commission_bp
    if kept_bp >= 0 and retail_min * kept_bp >= supply_price * BASIS_POINTS:
        # Rounding down only adds to the margin: even the unrounded one is ≥ 0.
        return True
    period = math.lcm(
        BASIS_POINTS // math.gcd(fee_bp, BASIS_POINTS),
        BASIS_POINTS // math.gcd(commission_bp, BASIS_POINTS),
    )
    first = range(retail_min, min(retail_max, retail_min + period - 1) + 1)
    last = range(max(retail_min, retail_max - period + 1), retail_max + 1)
    return all(
        margin_is_covered(
            price=price, supply_price=supply_price, commission_bp=commission_bp, fee_bp=fee_bp
        )
        for window in (first, last)
        for price in window
    )


def margin_is_covered(*, price: int, supply_price: int, commission_bp: int, fee_bp: int) -> bool:
    """True when P − S − floor(P·fee) − floor(P·commission) ≥ 0."""
    fee = price * fee_bp // BASIS_POINTS
    commission = price * commission_bp // BASIS_POINTS
    return price - supply_price - fee - commission >= 0


def is_in_band(price: int, *, retail_min: int, retail_max: int) -> bool:
    return retail_min <= price <= retail_max


def stock_state(stock: int, *, low_at: int = 5) -> str:
    if stock <= 0:
        return "out_of_stock"
    if stock <= low_at:
        return "low_stock"
    return "in_stock"
