"""Price bands and margins of the supply market. No database."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from kinshop.catalog.rules import (
    SkuPricing,
    is_in_band,
    margin_is_covered,
    pricing_problem,
    stock_state,
)

prices = st.integers(min_value=0, max_value=10**9)
rates = st.integers(min_value=0, max_value=10_000)


def test_a_workable_sku_has_no_pricing_problem():
    pricing = SkuPricing(
        supply_price=6000, retail_min=8000, retail_max=12000, suggested_retail_price=9900
    )

    assert pricing_problem(pricing, commission_bp=1000, fee_bp=0) is None


@pytest.mark.parametrize(
    ("pricing", "problem"),
    [
        (SkuPricing(-1, 8000, 12000, 9900), "negative_price"),
        (SkuPricing(6000, -1, 12000, 9900), "negative_price"),
        (SkuPricing(6000, 12001, 12000, 12000), "band_inverted"),
        (SkuPricing(6000, 8000, 12000, 7999), "suggested_price_out_of_band"),
        (SkuPricing(6000, 8000, 12000, 12001), "suggested_price_out_of_band"),
        (SkuPricing(9000, 8000, 12000, 9900), "band_below_cost"),
    ],
)
def test_pricing_problems(pricing, problem):
    assert pricing_problem(pricing, commission_bp=1000, fee_bp=0) == problem


def test_band_below_cost_is_judged_at_the_floor_of_the_band():
    # given supply 6000 and 10% commission + 5% fee: at P the margin is P − 6000 − 0.15·P
    # when the floor is 7059 the margin there is 7059 − 6000 − 352 − 705 = 2 ≥ 0
    # and at 7058: 7058 − 6000 − 352 − 705 = 1 ≥ 0; at 7000: 7000 − 6000 − 350 − 700 = −50
    workable = SkuPricing(6000, 7059, 20000, 9900)
    too_low = SkuPricing(6000, 7000, 20000, 9900)

    assert pricing_problem(workable, commission_bp=1000, fee_bp=500) is None
    assert pricing_problem(too_low, commission_bp=1000, fee_bp=500) == "band_below_cost"


def test_the_floor_leaving_exactly_zero_margin_is_allowed():
    # 10000 − 8000 − 1000 − 1000 = 0
    exact = SkuPricing(8000, 10000, 10000, 10000)
    one_fen_short = SkuPricing(8001, 10000, 10000, 10000)

    assert pricing_problem(exact, commission_bp=1000, fee_bp=1000) is None
    assert pricing_problem(one_fen_short, commission_bp=1000, fee_bp=1000) == "band_below_cost"


def test_a_band_whose_higher_price_rounds_into_a_loss_is_refused():
    # given 30% commission and 5% fee, the margin at 19 is 19 − 14 − 0 − 5 = 0, but at 20
    # both rounded-down parts step up together: 20 − 14 − 1 − 6 = −1
    band = SkuPricing(supply_price=14, retail_min=19, retail_max=20, suggested_retail_price=19)

    assert margin_is_covered(price=19, supply_price=14, commission_bp=3000, fee_bp=500)
    assert not margin_is_covered(price=20, supply_price=14, commission_bp=3000, fee_bp=500)
    assert pricing_problem(band, commission_bp=3000, fee_bp=500) == "band_below_cost"


@given(price=prices, supply_price=prices, commission_bp=rates, fee_bp=rates)
def test_margin_is_covered_exactly_when_the_rounded_down_parts_leave_a_margin(
    price, supply_price, commission_bp, fee_bp
):
    margin = price - supply_price - price * fee_bp // 10_000 - price * commission_bp // 10_000

    assert margin_is_covered(
        price=price, supply_price=supply_price, commission_bp=commission_bp, fee_bp=fee_bp
    ) == (margin >= 0)


@given(
    supply_price=st.integers(min_value=0, max_value=10**6),
    retail_min=st.integers(min_value=0, max_value=10**6),
    width=st.integers(min_value=0, max_value=300),
    commission_bp=st.integers(min_value=0, max_value=5000),
    fee_bp=st.integers(min_value=0, max_value=5000),
)
@example(supply_price=14, retail_min=19, width=1, commission_bp=3000, fee_bp=500)
def test_an_accepted_band_leaves_a_margin_at_every_price_in_it(
    supply_price, retail_min, width, commission_bp, fee_bp
):
    pricing = SkuPricing(supply_price, retail_min, retail_min + width, retail_min)

    accepted = pricing_problem(pricing, commission_bp=commission_bp, fee_bp=fee_bp) is None

    every_price_covered = all(
        margin_is_covered(
            price=price, supply_price=supply_price, commission_bp=commission_bp, fee_bp=fee_bp
        )
        for price in range(retail_min, retail_min + width + 1)
    )
    assert accepted == every_price_covered


def test_checking_a_very_wide_band_is_quick_and_right():
    wide = SkuPricing(5000, 8000, 10**12, 9900)

    assert pricing_problem(wide, commission_bp=3001, fee_bp=1) is None
    # above 100% in total the margin shrinks as the price grows: the top of the band fails
    assert pricing_problem(wide, commission_bp=6000, fee_bp=4500) == "band_below_cost"


def test_is_in_band_includes_both_ends():
    assert is_in_band(8000, retail_min=8000, retail_max=12000)
    assert is_in_band(12000, retail_min=8000, retail_max=12000)
    assert not is_in_band(7999, retail_min=8000, retail_max=12000)
    assert not is_in_band(12001, retail_min=8000, retail_max=12000)


@pytest.mark.parametrize(
    ("stock", "state"),
    [
        (-1, "out_of_stock"),
        (0, "out_of_stock"),
        (1, "low_stock"),
        (5, "low_stock"),
        (6, "in_stock"),
    ],
)
def test_stock_state(stock, state):
    assert stock_state(stock) == state
