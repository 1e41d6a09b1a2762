"""Pre-sale rules: the deposit and balance arithmetic, and the terms a
shopkeeper may set."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kinshop.campaigns import rules

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def problem(**changes):
    terms = {
        "price": 9000,
        "deposit": 1000,
        "balance_starts_at": NOW + 24 * HOUR,
        "balance_ends_at": NOW + 48 * HOUR,
        "ships_on": (NOW + 72 * HOUR).date(),
        "now": NOW,
    }
    return rules.presale_problem(**{**terms, **changes})


def test_good_terms_have_no_problem():
    assert problem() is None
    assert problem(deposit=9000) is None  # the whole price as deposit
    assert problem(deposit=1) is None


def test_each_bad_term_has_its_code():
    assert problem(deposit=0) == "invalid_deposit"
    assert problem(deposit=9001) == "invalid_deposit"
    assert problem(balance_ends_at=NOW + 24 * HOUR) == "invalid_balance_window"
    assert (
        problem(balance_starts_at=NOW - 48 * HOUR, balance_ends_at=NOW - HOUR) == "ends_in_the_past"
    )
    assert problem(ships_on=NOW.date()) == "ships_before_balance"


@given(
    price=st.integers(min_value=1, max_value=10**9),
    data=st.data(),
    quantity=st.integers(min_value=1, max_value=999),
)
def test_deposit_and_balance_make_the_whole_price(price, data, quantity):
    deposit = data.draw(st.integers(min_value=1, max_value=price))
    due_now, due_later = rules.presale_amounts(price=price, deposit=deposit, quantity=quantity)
    assert due_now + due_later == price * quantity
    assert 1 <= due_now <= price * quantity
    assert due_later >= 0
    assert due_now == deposit * quantity


@given(price=st.integers(min_value=1, max_value=10**9), deposit=st.integers(-10, 2 * 10**9))
def test_a_deposit_is_accepted_exactly_between_one_fen_and_the_price(price, deposit):
    ok = problem(price=price, deposit=deposit) is None
    assert ok == (1 <= deposit <= price)
