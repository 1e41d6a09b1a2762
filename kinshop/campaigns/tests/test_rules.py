"""The pure rules of campaigns, without a database."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kinshop.campaigns import rules
from kinshop.catalog import rules as catalog_rules

NOW = dt.datetime(2026, 12, 24, 10, 0, tzinfo=dt.UTC)
SKU = rules.SkuTerms(
    supply_price=6000, retail_min=8000, retail_max=12000, commission_bp=1000, fee_bp=0
)


def test_a_price_inside_the_band_that_covers_its_costs_is_allowed():
    assert rules.price_problem(8000, SKU) is None
    assert rules.price_problem(12000, SKU) is None


def test_a_price_outside_the_band_is_refused():
    assert rules.price_problem(7999, SKU) == "price_outside_band"
    assert rules.price_problem(12001, SKU) == "price_outside_band"


def test_a_price_that_does_not_cover_supply_fee_and_commission_is_refused():
    thin = rules.SkuTerms(
        supply_price=7500, retail_min=7000, retail_max=9000, commission_bp=1000, fee_bp=500
    )
    assert rules.price_problem(8000, thin) == "price_below_cost"  # 7500 + 400 + 800 > 8000
    assert rules.price_problem(9000, thin) is None


@given(
    price=st.integers(1, 10**7),
    supply=st.integers(0, 10**7),
    low=st.integers(1, 10**7),
    width=st.integers(0, 10**7),
    commission_bp=st.integers(0, 5000),
    fee_bp=st.integers(0, 2000),
)
def test_an_allowed_price_always_leaves_a_margin_of_zero_or_more(
    price, supply, low, width, commission_bp, fee_bp
):
    sku = rules.SkuTerms(supply, low, low + width, commission_bp, fee_bp)
    if rules.price_problem(price, sku) is None:
        split = catalog_rules.split_line(price, supply, commission_bp, fee_bp)
        assert low <= price <= low + width
        assert split.margin >= 0
        assert split.supplier + split.fee + split.commission + split.margin == price


def test_group_buy_limits():
    ok = {
        "group_size": 2,
        "hours": 1,
        "ends_at": NOW + dt.timedelta(hours=1),
        "now": NOW,
        "group_price": 9000,
        "leader_price": None,
    }
    assert rules.group_buy_problem(**ok) is None
    assert rules.group_buy_problem(**{**ok, "group_size": 1}) == "invalid_group_size"
    assert rules.group_buy_problem(**{**ok, "group_size": 51}) == "invalid_group_size"
    assert rules.group_buy_problem(**{**ok, "hours": 73}) == "invalid_hours"
    assert rules.group_buy_problem(**{**ok, "ends_at": NOW}) == "ends_in_the_past"
    assert (
        rules.group_buy_problem(**{**ok, "leader_price": 9001}) == "leader_price_above_group_price"
    )


def test_flash_sale_limits():
    ok = {
        "units": 10,
        "per_buyer_limit": 2,
        "starts_at": NOW,
        "ends_at": NOW + dt.timedelta(hours=1),
        "payment_minutes": 15,
        "now": NOW,
    }
    assert rules.flash_sale_problem(**ok) is None
    assert rules.flash_sale_problem(**{**ok, "units": 0}) == "invalid_units"
    assert rules.flash_sale_problem(**{**ok, "per_buyer_limit": 11}) == "invalid_per_buyer_limit"
    assert rules.flash_sale_problem(**{**ok, "ends_at": NOW}) == "invalid_window"
    assert rules.flash_sale_problem(**{**ok, "payment_minutes": 0}) == "invalid_payment_minutes"


@given(offset=st.integers(-(10**6), 10**6))
def test_a_sale_is_in_exactly_one_phase(offset):
    starts, ends = NOW, NOW + dt.timedelta(hours=1)
    now = NOW + dt.timedelta(seconds=offset)
    phase = rules.flash_phase(starts_at=starts, ends_at=ends, ended_at=None, now=now)
    assert phase == ("scheduled" if now < starts else "live" if now < ends else "ended")


@given(offset=st.integers(-(10**6), 10**6), ended=st.integers(-(10**6), 10**6))
def test_a_sale_its_shop_ended_is_ended_whatever_the_clock(offset, ended):
    starts, ends = NOW, NOW + dt.timedelta(hours=1)
    now = NOW + dt.timedelta(seconds=offset)
    ended_at = NOW + dt.timedelta(seconds=ended)
    assert rules.flash_phase(starts_at=starts, ends_at=ends, ended_at=ended_at, now=now) == "ended"


@given(size=st.integers(2, 50), paid=st.integers(0, 50), expired=st.booleans())
def test_a_group_succeeds_only_with_every_member_paid(size, paid, expired):
    paid = min(paid, size)
    outcome = rules.group_outcome(size=size, paid=paid, expired=expired)
    assert (outcome == "succeeded") == (paid == size)
    if paid < size:
        assert outcome == ("failed" if expired else "forming")
