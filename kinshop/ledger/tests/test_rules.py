"""The ledger's money rules, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinshop.catalog.rules import Split, split_line
from kinshop.core.errors import InvalidInput
from kinshop.ledger import rules
from kinshop.ledger.rules import reverse_split
from kinshop.orders.rules import allocate_refund


def test_worked_example_split_and_partial_refund():
    # given a 99.00 line, supply 60.00, commission 10%, platform fee 2%
    split = split_line(9900, 6000, 1000, 200)

    assert split == Split(supplier=6000, fee=198, commission=990, margin=2712)

    # when a third of it is refunded
    reversal = reverse_split(split, 9900, 0, 3300)

    assert reversal == Split(supplier=2000, fee=66, commission=330, margin=904)
    assert reversal.total == 3300


def test_no_beneficiary_means_no_commission_and_margin_keeps_it():
    assert split_line(9900, 6000, 0, 200) == Split(
        supplier=6000, fee=198, commission=0, margin=3702
    )


def test_rounding_goes_to_the_margin():
    # 1% of 999 is 9.99 → 9; 3% of 999 is 29.97 → 29
    assert split_line(999, 500, 300, 100) == Split(supplier=500, fee=9, commission=29, margin=461)


def test_negative_margin_is_refused():
    with pytest.raises(InvalidInput) as error:
        split_line(1000, 950, 1000, 0)
    assert error.value.code == "negative_margin"


def test_refund_above_paid_is_refused():
    split = split_line(9900, 6000, 1000, 200)
    with pytest.raises(InvalidInput) as error:
        reverse_split(split, 9900, 9000, 901)
    assert error.value.code == "refund_exceeds_paid"


def test_full_refund_in_three_steps_reverses_exactly():
    split = split_line(9900, 6000, 1000, 200)
    steps = [reverse_split(split, 9900, 0, 3300), reverse_split(split, 9900, 3300, 3300)]
    steps.append(reverse_split(split, 9900, 6600, 3300))
    assert sum((step.supplier for step in steps), 0) == 6000
    assert [sum(getattr(step, part) for step in steps) for part in split.parts()] == [
        6000,
        198,
        990,
        2712,
    ]


def test_allocate_refund_example():
    # 100 over remaining 30/30/40: 30/30/40 exactly
    assert allocate_refund(100, [(1, 30), (2, 30), (3, 40)]) == {1: 30, 2: 30, 3: 40}
    # 10 over 3/3/3/1 (total 10): everything
    assert allocate_refund(10, [(1, 3), (2, 3), (3, 3), (4, 1)]) == {1: 3, 2: 3, 3: 3, 4: 1}
    # 2 over 1/1/1: the leftover fen go to the largest, then lowest id
    assert allocate_refund(2, [(7, 1), (5, 1), (6, 1)]) == {5: 1, 6: 1}
    # 5 over 10 and 3: 3.84 → 3 and 1.15 → 1, the leftover fen to the larger
    assert allocate_refund(5, [(1, 10), (2, 3)]) == {1: 4, 2: 1}


def test_allocate_refund_refuses_more_than_remaining():
    with pytest.raises(InvalidInput) as error:
        allocate_refund(11, [(1, 5), (2, 5)])
    assert error.value.code == "refund_exceeds_refundable"


@st.composite
def lines(draw):
    paid = draw(st.integers(min_value=0, max_value=10**9))
    commission_bp = draw(st.integers(min_value=0, max_value=3000))
    fee_bp = draw(st.integers(min_value=0, max_value=1000))
    most_supply = paid - paid * commission_bp // 10_000 - paid * fee_bp // 10_000
    supply = draw(st.integers(min_value=0, max_value=most_supply))
    return paid, supply, commission_bp, fee_bp


@given(lines())
def test_split_parts_add_up_exactly(line):
    paid, supply, commission_bp, fee_bp = line
    split = split_line(paid, supply, commission_bp, fee_bp)
    assert split.total == paid
    assert split.supplier == supply
    assert min(split.parts().values()) >= 0


@st.composite
def refund_sequences(draw):
    paid, supply, commission_bp, fee_bp = draw(lines())
    refunds = []
    left = paid
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        if left == 0:
            break
        amount = draw(st.integers(min_value=1, max_value=left))
        refunds.append(amount)
        left -= amount
    full = draw(st.booleans())
    if full and left:
        refunds.append(left)
    return split_line(paid, supply, commission_bp, fee_bp), paid, refunds


@given(refund_sequences())
def test_refunds_never_reverse_more_than_the_split(case):
    split, paid, refunds = case
    refunded = 0
    cumulative = {part: 0 for part in split.parts()}
    for amount in refunds:
        reversal = reverse_split(split, paid, refunded, amount)
        # each refund's reversal parts sum to the refund amount
        assert reversal.total == amount
        refunded += amount
        for part, value in reversal.parts().items():
            cumulative[part] += value
        # cumulatively: never more than the split in total; the rounded-down parts
        # never more than their own share
        assert sum(cumulative.values()) == refunded <= split.total
        for part in ("supplier", "fee", "commission"):
            assert 0 <= cumulative[part] <= getattr(split, part)
    if refunded == paid:
        assert cumulative == split.parts()


@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
    st.data(),
)
def test_allocate_refund_sums_and_respects_each_remaining(remainings, data):
    lines_ = list(enumerate(remainings, start=100))
    amount = data.draw(st.integers(min_value=0, max_value=sum(remainings)))
    allocation = allocate_refund(amount, lines_)
    assert sum(allocation.values()) == amount
    remaining_of = dict(lines_)
    for line_id, share in allocation.items():
        assert 0 < share <= remaining_of[line_id]
    # deterministic
    assert allocate_refund(amount, list(reversed(lines_))) == allocation


@given(
    st.integers(0, 10**9),
    st.dictionaries(st.sampled_from(["sharer:1", "shop:2"]), st.integers(0, 10**9)),
)
def test_a_withdrawal_repays_debts_first_and_never_more_than_owed_or_asked(amount, debts):
    repayments = rules.repay_debts(amount, debts)

    assert sum(repayments.values()) == min(amount, sum(debts.values()))
    assert all(0 < repaid <= debts[key] for key, repaid in repayments.items())
