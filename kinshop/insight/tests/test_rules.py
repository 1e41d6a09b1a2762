"""Insight's arithmetic, without a database: factors multiply back to GMV, Gini
is 0 for equal incomes and tends to 1 for one earner, deciles and cohorts add up."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.core.errors import InvalidInput
from kinshop.insight import rules

counts = st.integers(min_value=1, max_value=10**7)


@st.composite
def funnels(draw):
    visitors = draw(counts)
    buyers = draw(st.integers(min_value=1, max_value=visitors))
    orders = draw(st.integers(min_value=buyers, max_value=buyers * 20))
    gmv = draw(st.integers(min_value=0, max_value=orders * 10**7))
    return gmv, visitors, buyers, orders


@given(funnels())
def test_factors_multiply_back_to_gmv(funnel):
    gmv, visitors, buyers, orders = funnel
    f = rules.factors(gmv=gmv, visitors=visitors, buyers=buyers, orders=orders)
    # exactly, as fractions
    exact = {name: Fraction(value) for name, value in f.exact.items()}
    assert visitors * exact["conversion"] * exact["orders_per_buyer"] * exact["aov"] == gmv
    # and on the doubles a client reads: each within a few ulps of its quotient,
    # their product gmv itself (or, in rare cases, its neighbouring double)
    assert f.conversion == pytest.approx(buyers / visitors, rel=1e-14)
    assert f.orders_per_buyer == pytest.approx(orders / buyers, rel=1e-14)
    assert f.aov == pytest.approx(gmv / orders, rel=1e-14, abs=0)
    product = visitors * f.conversion * f.orders_per_buyer * f.aov
    assert abs(product - gmv) <= max(1e-9, abs(gmv) * 2**-52)


def test_factors_hold_exactly_in_doubles_for_everyday_numbers():
    misses = 0
    for visitors in range(1, 60):
        for buyers in range(1, visitors + 1, 3):
            for orders in range(buyers, buyers * 3, 2):
                gmv = 9900 * orders - 37 * buyers
                f = rules.factors(gmv=gmv, visitors=visitors, buyers=buyers, orders=orders)
                misses += visitors * f.conversion * f.orders_per_buyer * f.aov != gmv
    assert misses == 0


def test_empty_factors_are_zero():
    f = rules.factors(gmv=0, visitors=0, buyers=0, orders=0)
    assert (f.conversion, f.orders_per_buyer, f.aov) == (0.0, 0.0, 0.0)
    assert rules.factors(gmv=0, visitors=10, buyers=0, orders=0).conversion == 0.0


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=500))
def test_gini_is_zero_for_equal_incomes(income, sharers):
    assert rules.gini([income] * sharers) == 0.0


@given(st.integers(min_value=1, max_value=10**9), st.integers(min_value=1, max_value=2000))
def test_gini_of_one_earner_among_many_tends_to_one(income, sharers):
    assert rules.gini([0] * (sharers - 1) + [income]) == pytest.approx((sharers - 1) / sharers)


@given(st.lists(st.integers(min_value=-1000, max_value=10**6), max_size=200))
def test_gini_is_between_zero_and_one_and_ignores_order(incomes):
    value = rules.gini(incomes)
    assert 0.0 <= value < 1.0
    assert rules.gini(list(reversed(incomes))) == value


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=300))
def test_deciles_add_up(incomes):
    deciles = rules.income_deciles(incomes)
    assert len(deciles) == 10
    assert sum(row["sharers"] for row in deciles) == len(incomes)
    assert sum(row["income"] for row in deciles) == sum(incomes)
    # from the lowest earners up: each group's average is at least the last one's
    averages = [Fraction(row["income"], row["sharers"]) for row in deciles if row["sharers"]]
    assert averages == sorted(averages)
    if sum(incomes):
        assert sum(row["share"] for row in deciles) == pytest.approx(1.0)


@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=300))
def test_lorenz_runs_from_nothing_to_everything_below_the_diagonal(incomes):
    curve = rules.lorenz(incomes)
    assert curve[0] == (0.0, 0.0)
    assert curve[-1] == (1.0, 1.0)
    assert all(income <= people + 1e-12 for people, income in curve)


@given(
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=30), st.integers(min_value=0, max_value=24)),
        max_size=200,
    )
)
def test_cohorts_count_every_buyer_once_in_their_first_month(purchases):
    rows = rules.cohorts([(buyer, 24000 + month) for buyer, month in purchases])
    buyers = {buyer for buyer, _ in purchases}
    assert sum(row["buyers"] for row in rows) == len(buyers)
    for row in rows:
        first = row["months"][0]
        assert first == {"months_since": 0, "buyers": row["buyers"], "share": 1.0}
        assert all(cell["buyers"] <= row["buyers"] for cell in row["months"])
    months = [row["month"] for row in rows]
    assert months == sorted(months)


def test_a_cohort_that_comes_back():
    # two buyers start in January; one comes back in March
    rows = rules.cohorts([(1, 24300), (2, 24300), (1, 24302), (3, 24301)])
    assert rows[0]["month"] == "2025-01"
    assert [cell["buyers"] for cell in rows[0]["months"]] == [2, 0, 1]
    assert [cell["share"] for cell in rows[0]["months"]] == [1.0, 0.0, 0.5]
    assert rows[1] == {
        "month": "2025-02",
        "buyers": 1,
        "months": [
            {"months_since": 0, "buyers": 1, "share": 1.0},
            {"months_since": 1, "buyers": 0, "share": 0.0},
        ],
    }


def test_visitors_are_users_or_hashed_devices():
    assert rules.visitor_id(user_id=42, device_id="abcdefghijklmnop") == 42
    device = rules.visitor_id(user_id=None, device_id="abcdefghijklmnop")
    assert device is not None and device < 0
    assert device == rules.visitor_id(user_id=None, device_id="abcdefghijklmnop")
    assert device != rules.visitor_id(user_id=None, device_id="abcdefghijklmnoq")
    assert rules.visitor_id(user_id=None, device_id=None) is None


@pytest.mark.parametrize(
    ("agent", "bot"),
    [
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", True),
        ("Mozilla/5.0 (compatible; bingbot/2.0)", True),
        ("Baiduspider+(+http://www.baidu.com/search/spider.htm)", True),
        ("facebookexternalhit/1.1", True),
        ("curl/8.5.0", True),
        ("python-requests/2.32", True),
        ("Mozilla/5.0 HeadlessChrome/120.0", True),
        ("", True),
        (None, True),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile",
            False,
        ),
        ("Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.47 WeChat", False),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36", False),
        (
            "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari",
            False,
        ),
    ],
)
def test_bots_by_user_agent(agent, bot):
    assert rules.is_bot(agent) is bot


def test_periods_and_the_one_before():
    today = dt.date(2026, 12, 6)
    period = rules.period(None, None, today=today)
    assert (period.start, period.end, period.days) == (dt.date(2026, 11, 7), today, 30)
    assert period.previous == rules.Period(dt.date(2026, 10, 8), dt.date(2026, 11, 6))
    assert rules.period("2026-12-01", "2026-12-01", today=today).days == 1
    with pytest.raises(InvalidInput):
        rules.period("2026-12-02", "2026-12-01", today=today)
    with pytest.raises(InvalidInput):
        rules.period("2020-01-01", "2026-12-01", today=today)
    with pytest.raises(InvalidInput):
        rules.period("12/01/2026", None, today=today)


def test_csv_keeps_every_digit_of_a_double():
    text = rules.to_csv(["a", "b", "c"], [[1, 0.1 + 0.2, None]])
    assert text == "a,b,c\r\n1,0.30000000000000004,\r\n"
