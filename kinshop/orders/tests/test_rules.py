import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.orders import rules
from kinshop.orders.rules import Address, LineRequest


def test_merge_lines_adds_up_repeated_skus():
    assert rules.merge_lines([LineRequest(1, 2), LineRequest(2, 1), LineRequest(1, 3)]) == {
        1: 5,
        2: 1,
    }


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ([], "no_lines"),
        ([LineRequest(1, 0)], "quantity_not_positive"),
        ([LineRequest(1, -2)], "quantity_not_positive"),
        ([LineRequest(1, 1000)], "quantity_too_large"),
        ([LineRequest(i, 1) for i in range(51)], "too_many_lines"),
    ],
)
def test_merge_lines_refuses_impossible_baskets(lines, problem):
    with pytest.raises(ValueError, match=problem):
        rules.merge_lines(lines)


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 100)), min_size=1, max_size=20))
def test_merging_keeps_every_unit(pairs):
    merged = rules.merge_lines([LineRequest(sku, quantity) for sku, quantity in pairs])
    assert sum(merged.values()) == sum(quantity for _, quantity in pairs)


def test_address_problems():
    good = Address("王小明", "13800138000", "杭州", "文三路 90 号")
    assert rules.address_problem(good) is None
    assert (
        rules.address_problem(Address("", "13800138000", "杭州", "x")) == "invalid_recipient_name"
    )
    assert rules.address_problem(Address("a", "call me", "杭州", "x")) == "invalid_phone"
    assert rules.address_problem(Address("a", "13800138000", "杭州", " ")) == "invalid_address"


def test_after_sales_window():
    completed = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert rules.after_sales_open(completed_at=None, now=completed, days=7)
    assert rules.after_sales_open(
        completed_at=completed, now=completed + dt.timedelta(days=6), days=7
    )
    assert not rules.after_sales_open(
        completed_at=completed, now=completed + dt.timedelta(days=7), days=7
    )
