from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from kinshop import testing
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput
from kinshop.ledger import queries, services
from kinshop.ledger.models import (
    Account,
    ImmutableRow,
    JournalEntry,
    LineSettlement,
    Posting,
    Withdrawal,
)
from kinshop.ledger.queries import PLATFORM, Owner
from kinshop.ledger.tests.helpers import complete, make_paid_order, refund_order, verified
from kinshop.orders.models import Fulfilment, Order
from kinshop.payments.models import Payment
from kinshop.testing import assert_query_count, make_user

pytestmark = pytest.mark.django_db


def balance_of(owner: Owner, kind: str) -> int:
    """What the platform owes (positive) on this account: negated postings."""
    return queries.balances(owner, "CNY").get(kind, 0)


def parties(order):
    line = order.lines.first()
    return {
        "supplier": queries.supplier_owner(line.supplier_id),
        "shop": queries.shop_owner(line.shop_id),
        "sharer": queries.sharer_owner(line.commission_beneficiary_id or 0),
    }


def pending(owner):
    return balance_of(owner, Account.Kind.PENDING)


def available(owner):
    return balance_of(owner, Account.Kind.AVAILABLE)


@pytest.fixture
def sharer(db):
    return make_user("sharer")


def test_capture_credits_each_party_pending_with_the_worked_example(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer)

    who = parties(order)
    assert pending(who["supplier"]) == 6000
    assert pending(who["sharer"]) == 990
    assert pending(who["shop"]) == 2712
    assert balance_of(PLATFORM, Account.Kind.PLATFORM_FEE) == 198
    assert balance_of(PLATFORM, Account.Kind.CLEARING) == -9900  # an asset: debit balance
    entry = JournalEntry.objects.get(order=order, kind="capture")
    assert sum(entry.postings.values_list("amount", flat=True)) == 0
    assert entry.postings.count() == 5
    assert queries.health()["balanced"] is True


def test_capture_is_recorded_once(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer)

    again = services.record_capture(order=order)

    assert JournalEntry.objects.filter(order=order).count() == 1
    assert again.kind == "capture"
    assert pending(parties(order)["sharer"]) == 990


def test_capture_without_beneficiary_gives_the_commission_to_the_margin(shop, product):
    order = make_paid_order(shop=shop, product=product, sharer=None)

    assert pending(parties(order)["shop"]) == 3702
    assert not Account.objects.filter(owner_kind="sharer").exists()


def test_capture_runs_a_constant_number_of_queries(shop, product, sharer):
    for lines in (1, 8):
        other_shop_sharer = make_user()  # fresh accounts each time: same work
        order = make_paid_order(
            shop=shop, product=product, sharer=other_shop_sharer, lines=lines, capture=False
        )
        order = Order.objects.get(pk=order.pk)
        # 8: no capture yet; the lines; the entry; its postings joined with
        # their accounts, refused whole (the sharer has none yet); the accounts,
        # the missing one created, then found; the postings
        with assert_query_count(8):
            services.record_capture(order=order)
        assert Posting.objects.filter(entry__order=order).count() == 5 * lines


def test_capture_with_every_account_known_inserts_its_postings_with_them(shop, product, sharer):
    make_paid_order(shop=shop, product=product, sharer=sharer)  # the parties' accounts exist
    for lines in (1, 8):
        order = make_paid_order(
            shop=shop, product=product, sharer=sharer, lines=lines, capture=False
        )
        order = Order.objects.get(pk=order.pk)
        # 4: no capture yet; the lines; the entry; its postings, each with its
        # account found in the same INSERT ... SELECT
        with assert_query_count(4):
            entry = services.record_capture(order=order)
        postings = list(entry.postings.select_related("account").order_by("id"))
        assert len(postings) == 5 * lines
        assert sum(posting.amount for posting in postings) == 0
        assert [(p.account.owner_key, p.account.kind) for p in postings[:5]] == [
            ("platform", "clearing"),
            (f"supplier:{product.supplier_id}", "pending"),
            ("platform", "platform_fee"),
            (f"sharer:{sharer.pk}", "pending"),
            (f"shop:{shop.pk}", "pending"),
        ]
        assert all(p.line_id is not None for p in postings)
        assert balance_of(PLATFORM, Account.Kind.CLEARING) < 0


def test_capture_refuses_an_order_whose_total_is_not_its_lines(shop, product):
    order = make_paid_order(shop=shop, product=product, capture=False)
    Order.objects.filter(pk=order.pk).update(total=order.total + 1)
    order.refresh_from_db()

    with pytest.raises(Conflict) as error:
        services.record_capture(order=order)
    assert error.value.code == "order_total_mismatch"


def test_refund_before_settlement_reduces_pending_pro_rata(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer)

    refund_order(order, 3300)

    who = parties(order)
    assert pending(who["supplier"]) == 4000
    assert pending(who["sharer"]) == 660
    assert pending(who["shop"]) == 1808
    assert balance_of(PLATFORM, Account.Kind.PLATFORM_FEE) == 132
    assert balance_of(PLATFORM, Account.Kind.CLEARING) == -6600


def test_a_full_refund_in_steps_reverses_exactly_and_settles_nothing(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer, lines=2)
    for amount in (1, 3333, 7777, 19800 - 1 - 3333 - 7777):
        refund_order(order, amount)
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED

    who = parties(order)
    assert [pending(who[p]) for p in ("supplier", "sharer", "shop")] == [0, 0, 0]
    assert balance_of(PLATFORM, Account.Kind.CLEARING) == 0
    assert balance_of(PLATFORM, Account.Kind.PLATFORM_FEE) == 0

    assert services.settle_due(now=clock.now()) == 2
    assert not JournalEntry.objects.filter(kind="settlement").exists()
    assert LineSettlement.objects.filter(order=order).count() == 2


def test_refund_is_recorded_once_and_checks_its_allocations(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer)
    refund = refund_order(order, 3300)

    services.record_refund(refund=refund, allocations={order.lines.first().pk: 3300})
    assert JournalEntry.objects.filter(refund=refund).count() == 1

    other = order.refunds.create(
        amount=100, reason="x", requested_by=order.buyer, created_at=clock.now()
    )
    with pytest.raises(InvalidInput) as error:
        services.record_refund(refund=other, allocations={order.lines.first().pk: 99})
    assert error.value.code == "allocation_mismatch"
    with pytest.raises(InvalidInput) as error:
        services.record_refund(refund=other, allocations={10**9: 100})
    assert error.value.code == "line_not_in_order"
    # 99.00 paid, 33.00 refunded: 66.01 more is one fen too many
    over = order.refunds.create(
        amount=6601, reason="x", requested_by=order.buyer, created_at=clock.now()
    )
    with pytest.raises(InvalidInput) as error:
        services.record_refund(refund=over, allocations={order.lines.first().pk: 6601})
    assert error.value.code == "refund_exceeds_paid"
    assert JournalEntry.objects.filter(refund__in=[other, over]).count() == 0


def test_settlement_moves_pending_to_available_once_the_window_has_passed(
    shop, product, sharer, settings
):
    settings.KINSHOP_AFTER_SALES_DAYS = 7
    due = complete(make_paid_order(shop=shop, product=product, sharer=sharer), days_ago=7)
    not_yet = complete(make_paid_order(shop=shop, product=product, sharer=sharer), days_ago=6)
    make_paid_order(shop=shop, product=product, sharer=sharer)  # paid, never completed

    assert services.settle_due(now=clock.now()) == 1

    who = parties(due)
    assert available(who["sharer"]) == 990
    assert pending(who["sharer"]) == 990 * 2
    assert available(who["supplier"]) == 6000
    assert available(who["shop"]) == 2712
    assert LineSettlement.objects.get(line__order=due).entry.kind == "settlement"
    assert not LineSettlement.objects.filter(order=not_yet).exists()
    # idempotent: running again (or twice) settles nothing more
    assert services.settle_due(now=clock.now()) == 0
    assert available(who["sharer"]) == 990
    # late: a day later the second order is due too
    with clock.travel(dt.timedelta(days=1)):
        assert services.settle_due(now=clock.now()) == 1
    assert available(who["sharer"]) == 1980


def test_settlement_after_a_partial_refund_moves_only_what_is_left(shop, product, sharer):
    order = make_paid_order(shop=shop, product=product, sharer=sharer)
    refund_order(order, 3300)
    complete(order, days_ago=30)

    services.settle_due(now=clock.now())

    who = parties(order)
    assert [available(who[p]) for p in ("supplier", "sharer", "shop")] == [4000, 660, 1808]
    assert [pending(who[p]) for p in ("supplier", "sharer", "shop")] == [0, 0, 0]


def test_settlement_works_in_batches_with_few_queries(shop, product, sharer):
    orders = [
        complete(make_paid_order(shop=shop, product=product, sharer=sharer, lines=40), days_ago=9)
        for _ in range(5)
    ]

    # one batch of at most 2 orders per call, never a statement per line; then one
    # finding nothing. PostgreSQL: three (the batch, locked; its unsettled lines
    # and missing available accounts; entries, postings and line settlements in
    # one statement). SQLite: seven (the batch; lines left out; entries; available
    # accounts; pending and available postings; line settlements).
    per_batch = 3 if connection.vendor == "postgresql" else 7
    settled = []
    for count in (per_batch, per_batch, per_batch, 1):
        with assert_query_count(count):
            settled.append(services.settle_due(now=clock.now(), max_orders=2))

    assert settled == [80, 80, 40, 0]
    assert available(parties(orders[0])["sharer"]) == 990 * 200
    assert pending(parties(orders[0])["sharer"]) == 0
    # one settlement entry per order, one available posting per party per order
    entry = JournalEntry.objects.get(order=orders[0], kind="settlement")
    assert entry.postings.filter(account__kind="available").count() == 3
    assert entry.postings.filter(account__kind="pending").count() == 120


def test_worked_example_end_to_end_debt_after_settlement(shop, product, sharer, operator, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    # given the worked example, captured, completed and settled
    order = make_paid_order(shop=shop, product=product, sharer=verified(sharer))
    complete(order)
    with clock.travel(dt.timedelta(days=settings.KINSHOP_AFTER_SALES_DAYS)):
        assert services.settle_due(now=clock.now()) == 1
    assert queries.wallet(sharer, "sharer")["available"] == 990

    # and the sharer withdrew everything
    withdrawal = services.request_withdrawal(user=sharer, amount=990, wallet="sharer")
    assert queries.wallet(sharer)["available"] == 0
    assert queries.wallet(sharer)["withdrawal_requested"] == 990
    services.approve_withdrawal(withdrawal=withdrawal, actor=operator)
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID_OUT
    assert [h.to_status for h in withdrawal.history.all()] == ["requested", "approved", "paid_out"]

    # when a third is refunded after settlement
    refund_order(order, 3300)

    # then the sharer owes the reversed commission: a debt
    wallet = queries.wallet(sharer, "sharer")
    assert wallet == {
        "wallet": "sharer",
        "pending": 0,
        "available": -330,
        "debt": 330,
        "held": 0,
        "withdrawal_requested": 0,
        "paid_out": 990,
        "currency": "CNY",
    }
    who = parties(order)
    assert available(who["supplier"]) == 4000
    assert available(who["shop"]) == 1808
    # and the debt blocks any withdrawal
    with pytest.raises(Conflict) as error:
        services.request_withdrawal(user=sharer, amount=100)
    assert error.value.code == "insufficient_funds"
    assert error.value.details["debt"] == 330


def test_withdrawal_rules(shop, product, sharer, operator, settings, supplier_pair):
    settings.KINSHOP_MIN_WITHDRAWAL = 1000
    for _ in range(2):
        complete(make_paid_order(shop=shop, product=product, sharer=sharer), days_ago=30)
    services.settle_due(now=clock.now())

    def refused(error_type, code, **kwargs):
        with pytest.raises(error_type) as error:
            services.request_withdrawal(**kwargs)
        assert error.value.code == code

    refused(Forbidden, "identity_not_verified", user=sharer, amount=1000)
    verified(sharer)
    refused(Conflict, "below_minimum", user=sharer, amount=999)
    refused(Conflict, "insufficient_funds", user=sharer, amount=1981)
    refused(Forbidden, "not_shopkeeper", user=sharer, amount=1000, wallet="shop")
    refused(Forbidden, "not_supplier_staff", user=sharer, amount=1000, wallet="supplier")
    refused(InvalidInput, "invalid_wallet", user=sharer, amount=1000, wallet="platform")

    first = services.request_withdrawal(user=sharer, amount=1000)
    # the first request's money is held: only 980 is left
    refused(Conflict, "insufficient_funds", user=sharer, amount=1000)
    with pytest.raises(Forbidden) as error:
        services.approve_withdrawal(withdrawal=first, actor=sharer)
    assert error.value.code == "not_operator"

    services.reject_withdrawal(withdrawal=first, actor=operator, reason="typo")
    assert queries.wallet(sharer)["available"] == 1980
    with pytest.raises(Conflict) as error:
        services.approve_withdrawal(withdrawal=first, actor=operator)
    assert error.value.code == "invalid_transition"

    # the shopkeeper and the supplier's staff draw on their own wallets
    keeper = verified(shop.owner)
    services.request_withdrawal(user=keeper, amount=2712 * 2, wallet="shop")
    _, staff = supplier_pair
    services.request_withdrawal(user=verified(staff), amount=12000, wallet="supplier")
    assert queries.wallet(staff, "supplier")["withdrawal_requested"] == 12000
    assert queries.wallet(keeper, "shop")["available"] == 0


def test_late_payment_and_its_refund_net_to_zero(shop, product):
    order = make_paid_order(
        shop=shop, product=product, status=Order.Status.CANCELLED, capture=False
    )
    payment = Payment.objects.create(
        order=order,
        provider="sandbox",
        amount=order.total,
        status=Payment.Status.REFUNDED_LATE,
        reference="late-1",
        created_at=clock.now(),
    )
    with pytest.raises(Conflict):
        services.record_late_payment_refund(payment=payment)

    services.record_late_payment(payment=payment)
    assert balance_of(PLATFORM, Account.Kind.LATE_PAYMENT_REFUND) == 9900
    services.record_late_payment_refund(payment=payment)
    services.record_late_payment_refund(payment=payment)  # once only

    assert balance_of(PLATFORM, Account.Kind.CLEARING) == 0
    assert balance_of(PLATFORM, Account.Kind.LATE_PAYMENT_REFUND) == 0
    assert JournalEntry.objects.filter(payment=payment).count() == 2


def test_entries_and_postings_cannot_be_changed_or_deleted(shop, product):
    make_paid_order(shop=shop, product=product)
    posting = Posting.objects.first()
    entry = posting.entry

    posting.amount += 1
    with pytest.raises(ImmutableRow):
        posting.save()
    with pytest.raises(ImmutableRow):
        posting.delete()
    with pytest.raises(ImmutableRow):
        entry.save()
    with pytest.raises(ImmutableRow):
        entry.delete()
    with pytest.raises(ImmutableRow):
        Posting.objects.filter(pk=posting.pk).update(amount=0)
    with pytest.raises(ImmutableRow):
        Posting.objects.all().delete()
    with pytest.raises(ImmutableRow):
        JournalEntry.objects.all().delete()

    # the database refuses too, whoever asks
    for sql in (
        "UPDATE ledger_posting SET amount = amount + 1",
        "DELETE FROM ledger_posting",
        "UPDATE ledger_journalentry SET memo = 'x'",
        "DELETE FROM ledger_journalentry",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Posting.objects.get(pk=posting.pk).amount == posting.amount - 1


def test_health_reports_balanced_on_an_empty_ledger_in_constant_queries(db):
    with assert_query_count(6):
        health = queries.health()
    assert health == {
        "balanced": True,
        "entries": 0,
        "accounts": 0,
        "postings": 0,
        "mismatches": [],
    }


def test_compliance_report(shop, product, sharer):
    make_paid_order(shop=shop, product=product, sharer=sharer, quantity=2)
    make_paid_order(shop=shop, product=product, buyer=shop.owner)
    make_paid_order(shop=shop, product=product, status=Order.Status.CANCELLED, capture=False)
    Order.objects.filter(status="cancelled").update(paid_at=None)
    # units leave their supplier when shipped; every one of these is drop-shipped
    Fulfilment.objects.filter(order__status="paid").update(status="shipped")

    report = queries.compliance_report()

    assert report["commission_levels"] == 1
    assert report["orders"] == 2
    assert report["self_purchase_orders"] == 1
    assert report["self_purchase_share"] == 0.5
    assert report["units_left_suppliers"] == 3
    assert report["retail_reach_rate"] == 1.0
    assert report["commissioned_lines"] == 1


def test_settlement_goes_one_batch_at_a_time_and_the_job_finishes_the_backlog(
    shop, product, sharer, settings
):
    # given three matured orders
    for _ in range(3):
        complete(
            make_paid_order(shop=shop, product=product, sharer=sharer),
            days_ago=settings.KINSHOP_AFTER_SALES_DAYS + 1,
        )
    # when one batch is settled, only that batch is (its caller commits before the next)
    assert services.settle_due(now=clock.now(), max_orders=1) == 1
    assert LineSettlement.objects.count() == 1
    # then the job runner calls again until nothing is due
    from kinshop.ops.jobs import run_due

    assert run_due()["settle"] == 2
    assert LineSettlement.objects.count() == 3
    assert run_due()["settle"] == 0


def test_a_batch_that_settles_nothing_does_not_stop_the_job_before_the_rest(
    shop, product, sharer, settings, monkeypatch
):
    # given, first in the backlog, a refunded order whose line still has money
    # pending (settlement leaves such a line alone), then a matured order
    stuck = make_paid_order(shop=shop, product=product, sharer=sharer)
    Order.objects.filter(pk=stuck.pk).update(status=Order.Status.REFUNDED)
    due = complete(
        make_paid_order(shop=shop, product=product, sharer=sharer),
        days_ago=settings.KINSHOP_AFTER_SALES_DAYS + 1,
    )
    # and batches of one order, so the first batch settles nothing
    batch = services.settle_batch
    monkeypatch.setattr(
        services, "settle_batch", lambda **kwargs: batch(**{**kwargs, "max_orders": 1})
    )
    from kinshop.ops.jobs import run_due

    # when the jobs run: then the job went past the first batch to the matured order
    assert run_due()["settle"] == 1
    assert list(LineSettlement.objects.values_list("line__order", flat=True)) == [due.pk]
    assert run_due()["settle"] == 0


def test_self_purchases_per_shop_and_period(shop, product, sharer):
    # given a self-referred order in this shop, a linked one elsewhere, and a
    # keeper's own purchase paid ten days ago
    elsewhere = testing.make_shop(products=[product], price=9900)
    own = make_paid_order(shop=shop, product=product)
    own.lines.update(commission_refusal="self_referral")
    linked = make_paid_order(shop=elsewhere, product=product)
    linked.lines.update(commission_refusal="linked_identity")
    old = make_paid_order(shop=shop, product=product, buyer=shop.owner)
    Order.objects.filter(pk=old.pk).update(paid_at=clock.now() - dt.timedelta(days=10))
    make_paid_order(shop=shop, product=product, sharer=sharer)

    everything = queries.self_purchases()
    this_shop = queries.self_purchases(shop_id=shop.pk)
    this_week = queries.self_purchases(
        shop_id=shop.pk, since=clock.now() - dt.timedelta(days=7), until=clock.now()
    )

    assert (everything["orders"], everything["self_purchase_orders"]) == (4, 3)
    assert this_shop == {
        "orders": 3,
        "self_purchase_orders": 2,
        "self_purchase_share": 2 / 3,
        "own_link_orders": 1,
        "linked_identity_orders": 0,
        "shopkeeper_own_orders": 1,
    }
    assert (this_week["orders"], this_week["self_purchase_orders"]) == (2, 1)
