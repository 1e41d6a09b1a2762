"""The trust score and the fraud rules, without a database."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kinshop.sharing.rules import Person
from kinshop.trust import rules
from kinshop.trust.rules import Purchase, TrustSignals

counts = st.integers(0, 2000)


@st.composite
def signals(draw):
    rating_count = draw(st.integers(0, 2000))
    shipped = draw(counts)
    orders = draw(counts)
    complaints = draw(st.integers(0, 300))
    return TrustSignals(
        rating_sum=draw(st.integers(rating_count, 5 * rating_count)),
        rating_count=rating_count,
        shipped=shipped,
        shipped_on_time=draw(st.integers(0, shipped)),
        orders=orders,
        refunded=draw(st.integers(0, orders)),
        complaints=complaints,
        upheld_complaints=draw(st.integers(0, complaints)),
        penalty_points=draw(st.integers(0, 50)),
    )


def test_five_fives_do_not_beat_five_hundred_four_point_eights():
    few = rules.bayesian_rating(5 * 5, 5)
    many = rules.bayesian_rating(2400, 500)
    assert float(few) == 3.8
    assert float(many) == 4.75
    assert rules.trust_score(TrustSignals(rating_sum=25, rating_count=5)) < rules.trust_score(
        TrustSignals(rating_sum=2400, rating_count=500)
    )


def test_a_newcomer_scores_the_neutral_prior():
    assert rules.trust_score(TrustSignals()) == 77


def test_the_stated_swing_bounds():
    assert rules.review_swing_bound(1) == 4
    assert rules.review_swing_bound(3) == 8


@given(signals())
def test_score_is_bounded(s):
    assert 0 <= rules.trust_score(s) <= 100


@given(signals(), st.integers(1, 5))
def test_monotone_in_the_rating(s, extra_stars):
    if s.rating_count == 0:
        return
    better = TrustSignals(
        **{**s.__dict__, "rating_sum": min(5 * s.rating_count, s.rating_sum + extra_stars)}
    )
    assert rules.trust_score(better) >= rules.trust_score(s)


@given(signals())
def test_monotone_in_each_good_signal(s):
    base = rules.trust_score(s)
    fields = s.__dict__
    if s.shipped_on_time < s.shipped:
        assert (
            rules.trust_score(TrustSignals(**{**fields, "shipped_on_time": s.shipped_on_time + 1}))
            >= base
        )
    if s.refunded > 0:
        assert rules.trust_score(TrustSignals(**{**fields, "refunded": s.refunded - 1})) >= base
    if s.upheld_complaints > 0:
        assert (
            rules.trust_score(
                TrustSignals(**{**fields, "upheld_complaints": s.upheld_complaints - 1})
            )
            >= base
        )
    if s.penalty_points > 0:
        assert (
            rules.trust_score(TrustSignals(**{**fields, "penalty_points": s.penalty_points - 1}))
            >= base
        )


@given(signals())
def test_more_good_history_never_lowers_the_score(s):
    base = rules.trust_score(s)
    fields = s.__dict__
    one_more = {
        "an on-time shipment": {"shipped": s.shipped + 1, "shipped_on_time": s.shipped_on_time + 1},
        "an order kept": {"orders": s.orders + 1},
        "a complaint dismissed": {"complaints": s.complaints + 1},
    }
    for what, change in one_more.items():
        assert rules.trust_score(TrustSignals(**{**fields, **change})) >= base, what


@given(signals(), st.lists(st.integers(1, 5), min_size=1, max_size=3))
def test_a_few_reviews_cannot_swing_the_score_more_than_stated(s, new_ratings):
    after = TrustSignals(
        **{
            **s.__dict__,
            "rating_sum": s.rating_sum + sum(new_ratings),
            "rating_count": s.rating_count + len(new_ratings),
        }
    )
    swing = abs(rules.trust_score(after) - rules.trust_score(s))
    assert swing <= rules.review_swing_bound(len(new_ratings))


def test_rates_in_basis_points():
    assert rules.rate_bp(1, 3) == 3333
    assert rules.rate_bp(0, 0) == 0


def test_suspension_at_the_threshold():
    assert not rules.is_suspended_by_points(11, 12)
    assert rules.is_suspended_by_points(12, 12)


# ---- linked identity: a shared address ----------------------------------------------


def test_address_key_ignores_width_case_spaces_and_punctuation():
    assert rules.address_key("浙江省杭州市", "文三路 90 号") == rules.address_key(
        "浙江省 杭州市", "文三路９０号"
    )
    assert rules.address_key("A", "Road-1") == rules.address_key("a", "road 1")


def test_shared_address_records_the_evidence():
    key = rules.address_key("浙江省杭州市", "文三路 90 号")
    evidence = rules.shared_address(buyer_address=key, sharer_id=7, sharer_addresses={key: [3, 1]})
    assert evidence == {
        "rule": "linked_identity",
        "sharer_id": 7,
        "address": key,
        "sharer_order_ids": [1, 3],
    }
    assert rules.shared_address(buyer_address=key, sharer_id=7, sharer_addresses={}) is None


# ---- order rings -----------------------------------------------------------------------


def test_a_ring_of_three_is_found_with_its_orders():
    # A(1) bought through B(2), B through C(3), C through A.
    purchases = [Purchase(10, 1, 2), Purchase(11, 2, 3)]
    ring = rules.find_ring(purchases, through=Purchase(12, 3, 1))
    assert ring == {"rule": "order_ring", "accounts": [3, 1, 2], "order_ids": [12, 10, 11]}


def test_two_accounts_buying_from_each_other_are_not_a_ring_of_three():
    assert rules.find_ring([Purchase(10, 1, 2)], through=Purchase(11, 2, 1)) is None


def test_a_chain_without_a_cycle_is_no_ring():
    purchases = [Purchase(10, 1, 2), Purchase(11, 2, 3), Purchase(12, 3, 4)]
    assert rules.find_ring(purchases, through=Purchase(13, 4, 5)) is None


def test_a_longer_ring_beyond_the_limit_is_not_searched():
    purchases = [Purchase(i, i, i + 1) for i in range(1, 9)]
    assert rules.find_ring(purchases, through=Purchase(99, 9, 1), max_accounts=6) is None
    assert rules.find_ring(purchases, through=Purchase(99, 9, 1), max_accounts=9) is not None


# ---- pay then refund ----------------------------------------------------------------------


def test_a_buyer_with_three_full_refunds():
    assert rules.refund_abuse_buyer(buyer_id=4, full_refund_order_ids=[1, 2], threshold=3) is None
    assert rules.refund_abuse_buyer(buyer_id=4, full_refund_order_ids=[3, 1, 2], threshold=3) == {
        "rule": "refund_abuse",
        "who": "buyer",
        "buyer_id": 4,
        "full_refunds": 3,
        "threshold": 3,
        "order_ids": [1, 2, 3],
    }


def test_a_sharer_refunded_over_half_of_at_least_five():
    args = {"sharer_id": 9, "min_orders": 5, "rate_bp_over": 5000}
    assert (
        rules.refund_abuse_sharer(
            attributed_order_ids=[1, 2, 3, 4], refunded_order_ids=[1, 2, 3, 4], **args
        )
        is None
    )
    assert (
        rules.refund_abuse_sharer(
            attributed_order_ids=[1, 2, 3, 4, 5, 6], refunded_order_ids=[1, 2, 3], **args
        )
        is None
    )
    evidence = rules.refund_abuse_sharer(
        attributed_order_ids=[1, 2, 3, 4, 5], refunded_order_ids=[1, 2, 3], **args
    )
    assert evidence is not None
    assert (evidence["refund_rate_bp"], evidence["order_ids"]) == (6000, [1, 2, 3])


# ---- group self fill ----------------------------------------------------------------------


def _person(user_id: int, phone: str) -> Person:
    return Person.of(id=user_id, phone=phone)


def test_a_leader_filling_half_the_group_with_linked_accounts():
    leader = _person(1, "13800000001")
    members = [
        leader,
        _person(2, "13800000001"),
        _person(3, "+86 138-0000-0001"),
        _person(4, "13900000004"),
        _person(5, "13900000005"),
    ]
    evidence = rules.group_self_fill(leader=leader, members=members, share_bp=5000)
    assert evidence is not None
    assert evidence["linked_members"] == {"2": "same phone", "3": "same phone"}
    assert evidence["members"] == 4


def test_a_group_of_strangers_is_not_flagged():
    leader = _person(1, "13800000001")
    members = [leader, _person(2, "13800000002"), _person(3, "13800000003")]
    assert rules.group_self_fill(leader=leader, members=members, share_bp=5000) is None
