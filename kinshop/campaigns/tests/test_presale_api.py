"""Pre-sales (预售) through the API: a deposit, then the balance inside its
window, or the deposit back when the balance is not paid in time; every
error code; the ledger balanced after each step."""

from __future__ import annotations

import datetime as dt

import pytest

from kinshop import testing
from kinshop.campaigns.tests.conftest import address, buyer, pay
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger.models import Account, JournalEntry, Posting
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order
from kinshop.payments.models import Payment, ProviderRefund

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def terms(sku, **changes) -> dict:
    now = clock.now()
    return {
        "sku_id": sku.id,
        "price": 9000,
        "deposit": 1000,
        "balance_starts_at": (now + DAY).isoformat(),
        "balance_ends_at": (now + 2 * DAY).isoformat(),
        "ships_on": (now + 3 * DAY).date().isoformat(),
        **changes,
    }


@pytest.fixture
def presale(keeper, shop, sku):
    response = keeper.post(f"/shops/{shop.handle}/presales", terms(sku))
    assert response.status_code == 201, response.json()
    return response.json()


def buy(client, presale_id, quantity=2, **extra):
    return client.post(
        f"/presales/{presale_id}/orders",
        {"quantity": quantity, "address": address(client.phone), **extra},
    )


def start_payment(client, order_id):
    return client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})


def clearing() -> int:
    total = sum(
        Posting.objects.filter(
            account__kind=Account.Kind.CLEARING, account__owner_key="platform"
        ).values_list("amount", flat=True)
    )
    return total


def deposits_held() -> int:
    return -sum(
        Posting.objects.filter(account__kind=Account.Kind.DEPOSITS).values_list("amount", flat=True)
    )


def test_a_deposit_then_the_balance_in_its_window_pays_the_order(presale, supplier_pair):
    client = buyer()
    order = buy(client, presale["id"]).json()
    assert (order["status"], order["campaign"], order["total"]) == (
        "pending_payment",
        "presale",
        18000,
    )
    assert (order["amount_due"], order["deposit"]) == (2000, 2000)
    assert order["ships_on"] == (clock.now() + 3 * DAY).date().isoformat()

    # the first payment is the deposit alone
    paid = pay(client, order["id"])
    assert paid.status_code == 200, paid.json()
    shown = client.get(f"/orders/{order['id']}").json()
    assert (shown["status"], shown["amount_due"]) == ("awaiting_balance", 16000)
    assert shown["deposit_paid_at"] is not None and shown["paid_at"] is None
    assert Payment.objects.get(order_id=order["id"]).purpose == "deposit"
    assert (clearing(), deposits_held()) == (2000, 2000)
    assert not JournalEntry.objects.filter(kind="capture", order_id=order["id"]).exists()
    assert ledger_queries.health()["balanced"]

    # it cannot ship, nor be refunded as an after-sales refund, before the balance
    _, staff = supplier_pair
    shipped = testing.ApiClient(staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 409
    refund = client.post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"})
    assert (refund.status_code, refund.json()["code"]) == (409, "invalid_transition")

    # nor cancelled by hand, which would keep the deposit without a refund
    cancelled = client.post(f"/orders/{order['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["code"]) == (409, "invalid_transition")

    # the balance cannot be paid before its window opens
    early = start_payment(client, order["id"])
    assert (early.status_code, early.json()["code"]) == (409, "balance_not_open")

    # inside the window, the balance pays the rest and the whole price is split
    with clock.travel(DAY + dt.timedelta(minutes=1)):
        balance = pay(client, order["id"])
        assert balance.status_code == 200, balance.json()
        shown = client.get(f"/orders/{order['id']}").json()
    assert (shown["status"], shown["amount_due"]) == ("paid", 0)
    purposes = dict(Payment.objects.filter(order_id=order["id"]).values_list("purpose", "amount"))
    assert purposes == {"deposit": 2000, "balance": 16000}
    assert JournalEntry.objects.filter(kind="capture", order_id=order["id"]).count() == 1
    assert JournalEntry.objects.filter(kind="deposit_applied", order_id=order["id"]).count() == 1
    assert (clearing(), deposits_held()) == (18000, 0)
    assert ledger_queries.health()["balanced"]
    # and now it ships
    shipped = testing.ApiClient(staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 201, shipped.json()


def test_a_balance_not_paid_in_time_cancels_the_order_and_refunds_the_deposit(presale, sku):
    stock = SKU.objects.get(pk=sku.pk).stock
    client = buyer()
    order = buy(client, presale["id"]).json()
    pay(client, order["id"])
    assert SKU.objects.get(pk=sku.pk).stock == stock - 2

    # the job before the window closes changes nothing
    assert run_due(clock.now() + DAY + dt.timedelta(hours=1))["refund_lapsed_deposits"] == 0

    # late: the order is cancelled, its stock back, its deposit refunded
    counts = run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=1))
    assert counts["refund_lapsed_deposits"] == 1
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == stock
    [provider_refund] = ProviderRefund.objects.filter(payment__order_id=order["id"])
    assert (provider_refund.amount, provider_refund.status) == (2000, "succeeded")
    assert JournalEntry.objects.filter(kind="deposit_refund", order_id=order["id"]).count() == 1
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]

    # run again, later still: nothing more happens
    again = run_due(clock.now() + 3 * DAY)
    assert again["refund_lapsed_deposits"] == 0
    assert ProviderRefund.objects.filter(payment__order_id=order["id"]).count() == 1

    # and a refunded deposit is never followed by a balance payment
    with clock.travel(DAY + dt.timedelta(hours=1)):
        balance = start_payment(client, order["id"])
    assert (balance.status_code, balance.json()["code"]) == (409, "invalid_transition")
    assert ledger_queries.health()["balanced"]


def test_a_balance_arriving_after_the_deposit_was_refunded_goes_back(presale):
    client = buyer()
    order = buy(client, presale["id"], quantity=1).json()
    pay(client, order["id"])
    with clock.travel(DAY + dt.timedelta(hours=1)):
        started = start_payment(client, order["id"])
        assert started.status_code == 201, started.json()
    # the window closes before the payer confirms: the deposit goes back
    run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=1))
    with clock.travel(2 * DAY + dt.timedelta(minutes=2)):
        late = client.post(f"/payments/{started.json()['id']}/sandbox-confirm")
    assert late.status_code == 200, late.json()
    assert late.json()["status"] == "refunded_late"
    run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=3))
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert not JournalEntry.objects.filter(kind="capture", order_id=order["id"]).exists()
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]


def test_the_balance_window_closed_is_refused(presale):
    client = buyer()
    order = buy(client, presale["id"], quantity=1).json()
    pay(client, order["id"])
    with clock.travel(2 * DAY + dt.timedelta(minutes=1)):
        late = start_payment(client, order["id"])
    assert (late.status_code, late.json()["code"]) == (409, "balance_closed")


def test_refunds_of_a_fully_paid_presale_go_through_one_payment(presale, supplier_pair):
    client = buyer()
    order = buy(client, presale["id"]).json()
    pay(client, order["id"])
    with clock.travel(DAY + dt.timedelta(minutes=1)):
        pay(client, order["id"])
    _, staff = supplier_pair
    supplier = testing.ApiClient(staff)
    # more than the balance part cannot be carried by one payment
    too_big = client.post(f"/orders/{order['id']}/refunds", {"amount": 17000, "reason": "broken"})
    assert too_big.status_code == 201, too_big.json()
    refused = supplier.post(f"/refunds/{too_big.json()['id']}/approve")
    assert (refused.status_code, refused.json()["code"]) == (409, "refund_spans_payments")
    supplier.post(f"/refunds/{too_big.json()['id']}/reject", {"note": "ask in two parts"})
    # a refund the balance covers goes back through the balance payment
    part = client.post(f"/orders/{order['id']}/refunds", {"amount": 5000, "reason": "scratched"})
    approved = supplier.post(f"/refunds/{part.json()['id']}/approve")
    assert approved.status_code == 200, approved.json()
    run_due(clock.now())
    [provider_refund] = ProviderRefund.objects.filter(payment__order_id=order["id"])
    assert (provider_refund.payment.purpose, provider_refund.status) == ("balance", "succeeded")
    assert Order.objects.get(pk=order["id"]).refunded_amount == 5000
    assert ledger_queries.health()["balanced"]


def test_create_presale_error_codes(keeper, shop, sku):
    url = f"/shops/{shop.handle}/presales"
    now = clock.now()
    cases = [
        ({"deposit": 9001}, 422, "invalid_deposit"),
        ({"balance_ends_at": (now + DAY).isoformat()}, 422, "invalid_balance_window"),
        (
            {
                "balance_starts_at": (now - 2 * DAY).isoformat(),
                "balance_ends_at": (now - DAY).isoformat(),
            },
            422,
            "ends_in_the_past",
        ),
        ({"ships_on": now.date().isoformat()}, 422, "ships_before_balance"),
        ({"price": 20000, "deposit": 100}, 422, "price_outside_band"),
        ({"sku_id": 2**40}, 422, "sku_not_sold_here"),
    ]
    for changes, status, code in cases:
        response = keeper.post(url, terms(sku, **changes))
        assert (response.status_code, response.json()["code"]) == (status, code), changes
    stranger = buyer().post(url, terms(sku))
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_shopkeeper")
    assert testing.ApiClient().post(url, terms(sku)).status_code == 401
    missing = keeper.post("/shops/no-such-shop/presales", terms(sku))
    assert (missing.status_code, missing.json()["code"]) == (404, "shop_not_found")


def test_buy_presale_error_codes_and_idempotency(presale, keeper, shop, sku, settings):
    client = buyer()
    missing = buy(client, 2**40)
    assert (missing.status_code, missing.json()["code"]) == (404, "presale_not_found")
    assert testing.ApiClient().post(f"/presales/{presale['id']}/orders", {}).status_code == 401
    settings.KINSHOP_MAX_UNPAID_UNITS = 3
    over = buy(client, presale["id"], quantity=4)
    assert (over.status_code, over.json()["code"]) == (409, "too_many_unpaid")
    headers = {"Idempotency-Key": "presale-1"}
    body = {"quantity": 1, "address": address(client.phone)}
    first = client.post(f"/presales/{presale['id']}/orders", body, headers=headers)
    second = client.post(f"/presales/{presale['id']}/orders", body, headers=headers)
    assert first.status_code == 201, first.json()
    assert second.json()["id"] == first.json()["id"]
    assert Order.objects.filter(campaign="presale").count() == 1
    with clock.travel(2 * DAY + dt.timedelta(minutes=1)):
        ended = buy(client, presale["id"], quantity=1)
    assert (ended.status_code, ended.json()["code"]) == (409, "ended")


def test_the_operator_sees_each_presale_with_its_orders_by_stage(client, presale):
    paid_deposit, unpaid = buyer(), buyer()
    pay(paid_deposit, buy(paid_deposit, presale["id"], quantity=1).json()["id"])
    buy(unpaid, presale["id"], quantity=1)
    client.force_login(testing.make_user("presale_operator", is_staff=True, is_superuser=True))
    listing = client.get("/admin/campaigns/presale/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert 'class="field-awaiting_deposit">1<' in html
    assert 'class="field-awaiting_balance">1<' in html
    assert 'class="field-fully_paid">0<' in html
    detail = client.get(f"/admin/campaigns/presale/{presale['id']}/change/")
    assert detail.status_code == 200
