"""Pure rules of the supply market: price bands and commission caps."""

from __future__ import annotations

from dataclasses import dataclass

from kinshop.core.money import BASIS_POINTS


@dataclass(frozen=True)
class SkuPricing:
    supply_price: int
    retail_min: int
    retail_max: int
    suggested_retail_price: int


def pricing_problem(pricing: SkuPricing, *, commission_bp: int, fee_bp: int) -> str | None:
    """Why a SKU's prices cannot work, or None when they can.

    The band must leave the shopkeeper a margin M = P − S − F − C ≥ 0 at every
    price P in it; the margin is smallest at the band's floor.
    """
    if min(pricing.supply_price, pricing.retail_min, pricing.retail_max) < 0:
        return "negative_price"
    if pricing.retail_min > pricing.retail_max:
        return "band_inverted"
    if not pricing.retail_min <= pricing.suggested_retail_price <= pricing.retail_max:
        return "suggested_price_out_of_band"
    if not margin_is_covered(
        price=pricing.retail_min,
        supply_price=pricing.supply_price,
        commission_bp=commission_bp,
        fee_bp=fee_bp,
    ):
        return "band_below_cost"
    return None


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
