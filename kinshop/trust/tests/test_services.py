"""Fraud rules on real histories: the evidence they record and the holds they
put in the ledger; release and void; settlement and withdrawals around holds."""

from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.core import clock
from kinshop.core.errors import Conflict
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger import services as ledger
from kinshop.ledger.models import CommissionHold
from kinshop.ops.jobs import run_due
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.trust import jobs as trust_jobs
from kinshop.trust import queries as trust_queries
from kinshop.trust import services
from kinshop.trust.models import FraudFlag, OrderScreening, Penalty
from kinshop.trust.tests.helpers import buy, refund_fully

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(supplier_pair):
    return supplier_pair[1]


def _wallet(user, as_="sharer"):
    return ledger_queries.wallet(user, as_)


def test_a_ring_of_three_accounts_is_flagged_and_held(shop, product):
    a, b, c = (testing.make_user() for _ in range(3))
    first = buy(shop=shop, product=product, buyer=a, sharer=b)
    second = buy(shop=shop, product=product, buyer=b, sharer=c)
    run_due()
    assert not FraudFlag.objects.exists()  # a chain is not a ring

    third = buy(shop=shop, product=product, buyer=c, sharer=a)
    run_due()

    flag = FraudFlag.objects.get()
    assert flag.kind == "order_ring"
    assert sorted(flag.user_ids) == sorted([a.id, b.id, c.id])
    assert sorted(flag.order_ids) == sorted([first.id, second.id, third.id])
    assert flag.evidence["accounts"] == [c.id, a.id, b.id]
    assert CommissionHold.objects.filter(status="held").count() == 3
    for sharer in (a, b, c):
        assert (_wallet(sharer)["held"], _wallet(sharer)["pending"]) == (990, 0)


def test_void_moves_held_commission_to_the_shop_margin(shop, product, operator):
    a, b, c = (testing.make_user() for _ in range(3))
    buy(shop=shop, product=product, buyer=a, sharer=b)
    buy(shop=shop, product=product, buyer=b, sharer=c)
    buy(shop=shop, product=product, buyer=c, sharer=a)
    run_due()
    margin_before = ledger_queries.balances(ledger_queries.shop_owner(shop.id), "CNY")["pending"]

    services.resolve_fraud_flag(user=operator, flag_id=FraudFlag.objects.get().pk, decision="void")

    for sharer in (a, b, c):
        wallet = _wallet(sharer)
        assert (wallet["held"], wallet["pending"], wallet["available"]) == (0, 0, 0)
    margin_after = ledger_queries.balances(ledger_queries.shop_owner(shop.id), "CNY")["pending"]
    assert margin_after - margin_before == 3 * 990
    assert ledger_queries.health()["balanced"]


def test_a_pay_then_refund_buyer_is_flagged_with_the_refunds_as_evidence(shop, product, operator):
    buyer = testing.make_user()
    refunded = []
    for _ in range(3):
        order = buy(shop=shop, product=product, buyer=buyer)
        refund_fully(order, operator)
        refunded.append(order.id)
    run_due()

    flag = FraudFlag.objects.get(kind="refund_abuse")
    assert flag.subject == f"buyer:{buyer.id}"
    assert flag.evidence["full_refunds"] == 3
    assert flag.evidence["order_ids"] == sorted(refunded)

    # the next order they buy through a sharer has its commission held
    sharer = testing.make_user()
    later = buy(shop=shop, product=product, buyer=buyer, sharer=sharer)
    run_due()
    flag.refresh_from_db()
    assert later.id in flag.order_ids
    assert _wallet(sharer)["held"] == 990
    # run again: nothing new
    assert run_due()["screen_refund_patterns"] == 0


def test_a_paid_order_is_screened_for_refunds_paid_inside_the_window_only(
    shop, product, operator, settings
):
    # given a buyer with three full refunds, the oldest paid just before the window
    buyer = testing.make_user()
    refunded = []
    for _ in range(3):
        order = buy(shop=shop, product=product, buyer=buyer)
        refund_fully(order, operator)
        refunded.append(order)
    now = clock.now()
    window = dt.timedelta(days=settings.KINSHOP_FRAUD_WINDOW_DAYS)
    Order.objects.filter(pk=refunded[0].pk).update(paid_at=now - window - dt.timedelta(seconds=1))
    Order.objects.filter(pk=refunded[1].pk).update(paid_at=now - window + dt.timedelta(seconds=1))
    # when their next paid order is screened (the refunds counted as it is claimed)
    later = buy(shop=shop, product=product, buyer=buyer)
    assert services.screen_order(order=later, now=now) == []
    # then two refunds in the window are not enough; three are
    Order.objects.filter(pk=refunded[0].pk).update(paid_at=now - window)
    again = buy(shop=shop, product=product, buyer=buyer)
    [flag] = services.screen_order(order=again, now=now)
    assert (flag.kind, flag.subject) == ("refund_abuse", f"buyer:{buyer.id}")
    assert flag.evidence["order_ids"] == sorted(order.pk for order in refunded)
    assert again.pk in flag.order_ids
    # and an order screened once is not screened again
    assert services.screen_order(order=again, now=now) == []


def test_a_sharer_whose_orders_are_mostly_refunded(shop, product, operator):
    sharer = testing.make_user()
    placed = [buy(shop=shop, product=product, sharer=sharer) for _ in range(5)]
    for order in placed[:3]:
        refund_fully(order, operator)
    run_due()
    flag = FraudFlag.objects.get(subject=f"sharer:{sharer.id}")
    assert (flag.evidence["refund_rate_bp"], flag.evidence["attributed_orders"]) == (6000, 5)
    # the two orders not refunded keep their commission held
    assert _wallet(sharer)["held"] == 2 * 990


def test_rules_can_be_switched_off(shop, product, settings):
    settings.KINSHOP_FRAUD_ORDER_RING = False
    a, b, c = (testing.make_user() for _ in range(3))
    buy(shop=shop, product=product, buyer=a, sharer=b)
    buy(shop=shop, product=product, buyer=b, sharer=c)
    buy(shop=shop, product=product, buyer=c, sharer=a)
    run_due()
    assert not FraudFlag.objects.exists()
    assert OrderScreening.objects.count() == 3


def test_the_shared_address_rule_can_be_switched_off(shop, product, settings):
    settings.KINSHOP_FRAUD_LINKED_IDENTITY = False
    sharer = testing.make_user()
    buy(shop=shop, product=product, buyer=sharer, detail="home 3")
    buy(shop=shop, product=product, sharer=sharer, detail="home 3")
    run_due()
    assert not FraudFlag.objects.exists()
    assert (_wallet(sharer)["held"], _wallet(sharer)["pending"]) == (0, 990)


def test_the_refund_abuse_rule_can_be_switched_off(shop, product, operator, settings):
    settings.KINSHOP_FRAUD_REFUND_ABUSE = False
    buyer = testing.make_user()
    for _ in range(3):
        refund_fully(buy(shop=shop, product=product, buyer=buyer), operator)
    buy(shop=shop, product=product, buyer=buyer, sharer=testing.make_user())
    assert run_due()["screen_refund_patterns"] == 0
    assert not FraudFlag.objects.exists()


def test_the_group_self_fill_rule_can_be_switched_off(settings):
    leader = testing.make_user(phone="13800000021")
    twin = testing.make_user(phone="13800000021")
    group = {"leader_id": leader.id, "member_ids": [leader.id, twin.id], "order_ids": []}
    assert services.group_self_fill_finding(group_key="9", **group) is not None
    settings.KINSHOP_FRAUD_GROUP_SELF_FILL = False
    assert services.group_self_fill_finding(group_key="9", **group) is None


def test_held_commission_is_never_settled_nor_withdrawn(shop, product, staff, operator, settings):
    settings.KINSHOP_AFTER_SALES_DAYS = 0
    sharer = testing.make_user()
    accounts.verify_identity(user=sharer, real_name="分享者", id_number=testing.new_id_number())
    buy(shop=shop, product=product, buyer=sharer, detail="same home 1")
    order = buy(
        shop=shop, product=product, sharer=sharer, receive=True, staff=staff, detail="same home 1"
    )

    # one run: screening holds the line before settlement could pay it
    run_due(clock.now() + dt.timedelta(minutes=1))

    wallet = _wallet(sharer)
    assert (wallet["held"], wallet["available"], wallet["pending"]) == (990, 0, 0)
    assert order.lines.get().settlement  # the other parties settled
    with pytest.raises(Conflict) as refused:
        ledger.request_withdrawal(user=sharer, amount=990)
    assert refused.value.code in ("insufficient_funds", "below_minimum")

    # released after settlement: straight to available
    services.resolve_fraud_flag(
        user=operator, flag_id=FraudFlag.objects.get().pk, decision="release"
    )
    wallet = _wallet(sharer)
    assert (wallet["held"], wallet["available"]) == (0, 990)
    assert ledger_queries.health()["balanced"]


def test_a_refund_of_a_held_line_reverses_it_out_of_held(shop, product, operator):
    sharer = testing.make_user()
    buy(shop=shop, product=product, buyer=sharer, detail="home 7")
    order = buy(shop=shop, product=product, sharer=sharer, detail="home 7")
    run_due()
    assert _wallet(sharer)["held"] == 990
    refund_fully(order, operator)
    assert _wallet(sharer)["held"] == 0
    services.resolve_fraud_flag(user=operator, flag_id=FraudFlag.objects.get().pk, decision="void")
    assert ledger_queries.health()["balanced"]


def test_a_cleared_flag_is_not_raised_again(shop, product, operator):
    sharer = testing.make_user()
    buy(shop=shop, product=product, buyer=sharer, detail="home 9")
    order = buy(shop=shop, product=product, sharer=sharer, detail="home 9")
    run_due()
    flag = FraudFlag.objects.get()
    services.resolve_fraud_flag(user=operator, flag_id=flag.pk, decision="release")
    OrderScreening.objects.filter(order=order).delete()
    run_due()
    assert FraudFlag.objects.count() == 1


def test_group_self_fill_over_a_groups_members(shop, product):
    leader = testing.make_user(phone="13800000011")
    twin = testing.make_user(phone="13800000011")
    stranger = testing.make_user(phone="13800000012")
    finding = services.group_self_fill_finding(
        group_key="7",
        leader_id=leader.id,
        member_ids=[leader.id, twin.id, stranger.id],
        order_ids=[],
    )
    assert finding is not None
    assert finding.evidence["linked_members"] == {str(twin.id): "same phone"}
    assert (
        services.group_self_fill_finding(
            group_key="8", leader_id=leader.id, member_ids=[leader.id, stranger.id], order_ids=[]
        )
        is None
    )


def test_only_operators_resolve(shop, product):
    with pytest.raises(Exception) as refused:
        services.resolve_fraud_flag(user=testing.make_user(), flag_id=1, decision="release")
    assert getattr(refused.value, "code", "") == "not_operator"


def test_cancelled_unpaid_orders_are_not_screened(shop, product):
    order = buy(shop=shop, product=product, pay=False)
    orders.cancel_order(user=order.buyer, order_id=order.id)
    run_due()
    assert not OrderScreening.objects.exists()


def test_the_screening_job_looks_back_only_over_its_window(
    shop, product, settings, django_assert_num_queries
):
    settings.KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS = 30
    # given two paid orders nobody screened (a history from before trust)
    recent = buy(shop=shop, product=product)
    old = buy(shop=shop, product=product)
    OrderScreening.objects.all().delete()
    Order.objects.filter(pk=old.pk).update(paid_at=clock.now() - dt.timedelta(days=31))

    # when the job runs, then only the order paid within the window is screened
    assert trust_jobs.screen_paid_orders() == 1
    assert list(OrderScreening.objects.values_list("order_id", flat=True)) == [recent.id]
    # and once the window is screened, a run is one query that probes screenings
    # with NOT EXISTS (no NOT IN over every screening there ever was)
    with django_assert_num_queries(1) as run:
        assert trust_jobs.screen_paid_orders() == 0
    sql = run.captured_queries[0]["sql"].upper()
    assert "NOT EXISTS" in sql and "NOT IN" not in sql
    assert '"PAID_AT" >=' in sql

    # a longer window reaches the older order
    settings.KINSHOP_TRUST_SCREEN_LOOKBACK_DAYS = 32
    assert trust_jobs.screen_paid_orders() == 1
    assert OrderScreening.objects.filter(order_id=old.id).exists()


def test_only_penalty_points_of_the_last_year_suspend(shop, product, staff, operator, settings):
    settings.KINSHOP_SUSPEND_POINTS = 12
    supplier = product.supplier

    def uphold(points: int) -> None:
        order = buy(shop=shop, product=product, receive=True, staff=staff)
        complaint = services.file_complaint(
            user=order.buyer, order_id=order.id, reason="damaged", text="cracked"
        )
        services.decide_complaint(
            user=operator, complaint_id=complaint.pk, upheld=True, note="ok", penalty_points=points
        )

    # given 8 points given a year and a day ago
    uphold(8)
    Penalty.objects.update(created_at=clock.now() - dt.timedelta(days=366))

    # when 8 more come now, then the old ones no longer count: 8 < 12
    uphold(8)
    supplier.refresh_from_db()
    assert supplier.status == "verified"
    assert trust_queries.penalty_points(supplier_id=supplier.pk) == 8

    # and 4 more within the year reach the threshold
    uphold(4)
    supplier.refresh_from_db()
    assert supplier.status == "suspended"
    assert trust_queries.supplier_signals(supplier.pk).penalty_points == 12
