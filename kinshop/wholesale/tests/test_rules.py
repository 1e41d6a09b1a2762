"""The wholesale rules without a database: tier prices, the cap, the counts of
a holding and retail reach, with hypothesis where a property says more than an
example."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kinshop.catalog.rules import split_wholesale_line
from kinshop.ledger import rules as ledger_rules
from kinshop.wholesale import rules
from kinshop.wholesale.rules import Counts, Reach, Tier

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@st.composite
def valid_tiers(draw, supply_price: int | None = None):
    """Tiers that must pass: rising quantities, strictly falling prices, all at
    or below the supply price."""
    supply = supply_price or draw(st.integers(min_value=10, max_value=10**6))
    count = draw(st.integers(min_value=1, max_value=min(rules.MAX_TIERS, 10)))
    quantities = sorted(
        draw(
            st.sets(
                st.integers(min_value=1, max_value=rules.MAX_TIER_QUANTITY),
                min_size=count,
                max_size=count,
            )
        )
    )
    prices = sorted(
        draw(st.sets(st.integers(min_value=1, max_value=supply), min_size=count, max_size=count)),
        reverse=True,
    )
    tiers = [Tier(q, p) for q, p in zip(quantities, prices, strict=True)]
    return supply, draw(st.permutations(tiers))


@given(valid_tiers())
def test_valid_tiers_pass_in_any_order(case):
    supply, tiers = case
    assert rules.tiers_problem(tiers, supply_price=supply) is None


@given(valid_tiers(), st.integers(min_value=1, max_value=rules.MAX_TIER_QUANTITY))
def test_the_tier_price_falls_as_quantity_rises_and_never_passes_supply(case, quantity):
    supply, tiers = case
    price = rules.tier_price(tiers, quantity)
    minimum = rules.minimum_quantity(tiers)
    assert minimum is not None
    if quantity < minimum:
        assert price is None
        return
    assert price is not None
    assert 1 <= price <= supply
    # buying more never costs more per unit
    assert all(
        (rules.tier_price(tiers, more) or 0) <= price
        for more in range(quantity, min(quantity + 50, rules.MAX_TIER_QUANTITY) + 1)
    )
    # it is the price of the largest tier the quantity reaches
    reached = max(
        (tier for tier in tiers if tier.min_quantity <= quantity), key=lambda t: t.min_quantity
    )
    assert price == reached.unit_price


def test_tier_price_examples():
    tiers = [Tier(10, 5000), Tier(50, 4500), Tier(100, 4000)]
    assert rules.tier_price(tiers, 9) is None
    assert rules.tier_price(tiers, 10) == 5000
    assert rules.tier_price(tiers, 49) == 5000
    assert rules.tier_price(tiers, 50) == 4500
    assert rules.tier_price(tiers, 999) == 4000
    assert rules.tier_price([], 5) is None


def test_tiers_problems():
    supply = 6000
    assert rules.tiers_problem([], supply_price=supply) is None
    assert rules.tiers_problem([Tier(10, 6001)], supply_price=supply) == "tier_above_supply_price"
    assert rules.tiers_problem([Tier(0, 100)], supply_price=supply) == "invalid_min_quantity"
    assert rules.tiers_problem([Tier(1000, 100)], supply_price=supply) == "invalid_min_quantity"
    assert rules.tiers_problem([Tier(5, 0)], supply_price=supply) == "invalid_unit_price"
    assert (
        rules.tiers_problem([Tier(5, 500), Tier(5, 400)], supply_price=supply)
        == "duplicate_min_quantity"
    )
    assert (
        rules.tiers_problem([Tier(5, 500), Tier(10, 500)], supply_price=supply)
        == "tier_prices_not_falling"
    )
    assert (
        rules.tiers_problem([Tier(10, 400), Tier(5, 300)], supply_price=supply)
        == "tier_prices_not_falling"
    )
    eleven = [Tier(q, 6000 - q) for q in range(1, 12)]
    assert rules.tiers_problem(eleven, supply_price=supply) == "too_many_tiers"


@given(
    st.integers(min_value=0, max_value=10**4),
    st.integers(min_value=0, max_value=10**5),
    st.integers(min_value=0, max_value=10**5),
    st.integers(min_value=1, max_value=999),
)
def test_the_cap_is_floor_or_twice_recent_offline_sales(floor, sold_30, unsold, ordering):
    counts = Counts(bought=unsold)
    check = rules.check_cap(
        counts=counts, ordering=ordering, floor=floor, sold_offline_30_days=sold_30
    )
    assert check.cap == max(floor, 2 * sold_30)
    assert check.cap >= floor and check.cap >= 2 * sold_30
    assert check.allowed == (unsold + ordering <= check.cap)
    # what `room` says can be ordered is allowed, and one more is not
    if check.room:
        assert rules.check_cap(
            counts=counts, ordering=check.room, floor=floor, sold_offline_30_days=sold_30
        ).allowed
    assert not rules.check_cap(
        counts=counts, ordering=check.room + 1, floor=floor, sold_offline_30_days=sold_30
    ).allowed


def test_the_cap_counts_units_on_order_as_unsold():
    counts = Counts(bought=30, sold_offline=10, returned=5, on_order=20)
    assert counts.held == 15
    assert counts.unsold == 35
    assert rules.check_cap(counts=counts, ordering=15, floor=50, sold_offline_30_days=0).allowed
    check = rules.check_cap(counts=counts, ordering=16, floor=50, sold_offline_30_days=0)
    assert not check.allowed
    assert check.room == 15


@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=1000), st.integers(min_value=1, max_value=50)),
        max_size=12,
    ),
    st.integers(min_value=0, max_value=700),
)
def test_held_since_is_the_oldest_shipment_not_yet_consumed(shipments, consumed):
    dated = [(T0 + dt.timedelta(hours=hours), quantity) for hours, quantity in shipments]
    total = sum(quantity for _, quantity in dated)
    since = rules.held_since(dated, consumed=consumed)
    if consumed >= total:
        assert since is None
        return
    assert since is not None
    # every unit that arrived before `since` is consumed; some arriving at `since` is not
    before = sum(quantity for at, quantity in dated if at < since)
    up_to = sum(quantity for at, quantity in dated if at <= since)
    assert before <= consumed < up_to


@given(
    st.integers(min_value=0, max_value=10**6),
    st.integers(min_value=0, max_value=10**6),
    st.data(),
)
def test_retail_reach_is_a_ratio_of_units_between_0_and_1(drop, wholesale, data):
    sold = data.draw(st.integers(min_value=0, max_value=wholesale))
    returned = data.draw(st.integers(min_value=0, max_value=wholesale - sold))
    reach = Reach(
        drop_shipped=drop, wholesale_shipped=wholesale, sold_offline=sold, returned=returned
    )
    assert 0.0 <= reach.rate <= 1.0
    assert reach.units_held + reach.units_reached_consumers == reach.units_left_suppliers
    if reach.units_left_suppliers:
        assert reach.rate == (drop + sold) / (drop + wholesale - returned)
    assert (reach.rate == 1.0) == (reach.units_held == 0)


@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10_000))
def test_a_wholesale_split_has_no_commission_and_no_margin(paid, fee_bp):
    split = split_wholesale_line(paid, fee_bp)
    assert split.commission == 0
    assert split.margin == 0
    assert split.fee == paid * fee_bp // 10_000
    assert split.supplier + split.fee == paid


@given(
    st.integers(min_value=1, max_value=10**8),
    st.integers(min_value=0, max_value=3000),
    st.lists(st.integers(min_value=1, max_value=10**8), max_size=6),
)
def test_refunds_of_a_wholesale_line_never_reverse_more_than_its_split(paid, fee_bp, asks):
    split = split_wholesale_line(paid, fee_bp)
    refunded = supplier_total = fee_total = 0
    for ask in [*asks, paid]:  # the last one refunds whatever is left
        amount = min(ask, paid - refunded)
        reversal = ledger_rules.reverse_split(split, paid, refunded, amount)
        refunded += amount
        assert reversal.commission == 0
        # the supplier's account takes the rounding remainder ("margin") of a wholesale line
        supplier_total += reversal.supplier + reversal.margin
        fee_total += reversal.fee
        assert 0 <= supplier_total <= split.supplier
        assert 0 <= fee_total <= split.fee
    assert (supplier_total, fee_total) == (split.supplier, split.fee)
