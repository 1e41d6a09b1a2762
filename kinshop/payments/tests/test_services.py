"""The payment services called directly, without HTTP: starting a payment,
capturing it exactly once, refunding money that arrives for an order that can
no longer take it, the sandbox's signed notifications, and who may confirm a
payment. (How a recorded provider refund is carried out is test_outbox.py's.)

Each call that locks rows runs in its own `transaction.atomic()`, as the entry
point's transaction would; when it ends, what it left for after its commit runs."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from kinshop.core.tasks import InsideTransaction
from kinshop.ledger import queries as ledger
from kinshop.ledger.models import JournalEntry
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.orders.rules import Address, LineRequest
from kinshop.payments import services as payments
from kinshop.payments.models import Payment, ProviderRefund, WebhookEvent
from kinshop.payments.providers import sandbox

pytestmark = pytest.mark.django_db

HOME = Address(
    name="王小明", phone="13800138000", region="浙江省杭州市西湖区", detail="文三路 90 号"
)


@pytest.fixture
def buyer(db):
    return testing.make_user("buyer")


@pytest.fixture
def order(shop, buyer):
    """One unit at ¥99.00 (supply price ¥60.00, no sharer, no fee), awaiting payment."""
    sku = shop.selections.get().product.skus.get()
    with transaction.atomic():
        return orders.place_order(
            buyer=buyer, shop=shop, lines=[LineRequest(sku_id=sku.id, quantity=1)], address=HOME
        )


def start(order: Order, provider: str = "sandbox", user=None) -> Payment:
    with transaction.atomic():
        return payments.start_payment(
            user=user or order.buyer, order_id=order.id, provider=provider
        )


def capture(payment: Payment, amount: int | None = None) -> Payment:
    """The provider says the money is in, inside one entry point's transaction."""
    with transaction.atomic():
        return payments.capture(
            provider=payment.provider,
            reference=payment.reference,
            amount=payment.amount if amount is None else amount,
            transaction_id="txn-1",
        )


def entries(kind: str, **filters) -> int:
    return JournalEntry.objects.filter(kind=kind, **filters).count()


def notify(payment: Payment) -> tuple[bytes, dict[str, str]]:
    """A signed sandbox notification that `payment` was paid in full."""
    body = sandbox.payment_notification(reference=payment.reference, amount=payment.amount)
    return body, {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}


def webhook(body: bytes, headers: dict[str, str]) -> int:
    with transaction.atomic():
        return payments.handle_webhook(provider="sandbox", body=body, headers=headers)


# ---- start_payment ---------------------------------------------------------------


def test_the_buyer_starts_a_payment_of_the_order_total(order):
    payment = start(order)
    assert (payment.order_id, payment.provider, payment.status) == (order.id, "sandbox", "pending")
    assert (payment.amount, payment.currency) == (9900, "CNY")
    assert payment.reference.startswith("P")
    assert Order.objects.get(pk=order.pk).status == "pending_payment"
    # the sandbox answers where to pay without a call out, so it is asked at once;
    # opening it after commit then asks nothing more
    assert payment.pay_url == f"/pay/sandbox/{payment.reference}/"
    assert payments.open_payment(payment_id=payment.id).pay_url == payment.pay_url


def test_a_provider_that_calls_out_is_asked_where_to_pay_after_commit(order, monkeypatch):
    from kinshop.payments.providers.sandbox import SandboxProvider

    monkeypatch.setattr(SandboxProvider, "answers_locally", False)
    payment = start(order)
    # where to pay is asked of the provider after commit, outside any transaction
    assert payment.pay_url == ""
    opened = payments.open_payment(payment_id=payment.id)
    assert opened.pay_url == f"/pay/sandbox/{payment.reference}/"
    assert payments.open_payment(payment_id=payment.id).pay_url == opened.pay_url


def test_no_provider_is_asked_where_to_pay_inside_a_transaction(order):
    payment = start(order)
    with pytest.raises(InsideTransaction), transaction.atomic():
        payments.open_payment(payment_id=payment.id)


def test_a_stranger_cannot_find_the_order_to_pay(order):
    with pytest.raises(NotFound) as refused:
        start(order, user=testing.make_user())
    assert refused.value.code == "order_not_found"
    assert Payment.objects.count() == 0


@pytest.mark.parametrize("who", ["shopkeeper", "supplier", "operator"])
def test_only_the_buyer_pays(order, supplier_pair, operator, who):
    user = {"shopkeeper": order.shop.owner, "supplier": supplier_pair[1], "operator": operator}[who]
    with pytest.raises(Forbidden) as refused:
        start(order, user=user)
    assert refused.value.code == "not_buyer"
    assert Payment.objects.count() == 0


def test_a_paid_order_cannot_be_paid_again(order):
    capture(start(order))
    with pytest.raises(Conflict) as refused:
        start(order)
    assert refused.value.code == "invalid_transition"
    assert Payment.objects.count() == 1


def test_a_cancelled_order_cannot_be_paid(order, buyer):
    with transaction.atomic():
        orders.cancel_order(user=buyer, order_id=order.id)
    with pytest.raises(Conflict) as refused:
        start(order)
    assert refused.value.code == "invalid_transition"


def test_no_payment_starts_after_the_deadline(order):
    # given the deadline has just been reached, and the expiry job has not run yet
    with clock.travel(order.payment_deadline - clock.now()), pytest.raises(Conflict) as refused:
        start(order)
    assert refused.value.code == "payment_deadline_passed"
    assert Payment.objects.count() == 0


def test_a_payment_starts_just_before_the_deadline(order):
    with clock.travel(order.payment_deadline - clock.now() - dt.timedelta(seconds=5)):
        assert start(order).status == "pending"


@pytest.mark.parametrize("provider", ["bitcoin", ""])
def test_an_unknown_provider_is_refused(order, provider):
    with pytest.raises(InvalidInput) as refused:
        start(order, provider=provider)
    assert refused.value.code == "unknown_provider"
    assert Payment.objects.count() == 0


def test_the_sandbox_is_unknown_when_it_is_off(order, settings):
    settings.KINSHOP_PAYMENT_SANDBOX = False
    with pytest.raises(InvalidInput) as refused:
        start(order)
    assert refused.value.code == "unknown_provider"


# ---- capture ---------------------------------------------------------------------


def test_a_capture_pays_the_order_and_books_the_split(order, supplier_pair):
    supplier, _ = supplier_pair
    payment = capture(start(order))
    assert (payment.status, payment.provider_transaction_id) == ("captured", "txn-1")
    assert payment.captured_at is not None
    paid = Order.objects.get(pk=order.pk)
    assert (paid.status, paid.paid_at) == ("paid", payment.captured_at)
    assert list(paid.fulfilments.values_list("status", flat=True)) == ["to_ship"]
    # the ledger: ¥99.00 in clearing, ¥60.00 owed to the supplier, ¥39.00 to the shop
    assert entries(JournalEntry.Kind.CAPTURE, order=order) == 1
    assert ledger.balances(ledger.PLATFORM, "CNY") == {"clearing": -9900}
    assert ledger.balances(ledger.supplier_owner(supplier.id), "CNY") == {"pending": 6000}
    assert ledger.balances(ledger.shop_owner(order.shop_id), "CNY") == {"pending": 3900}


def test_a_capture_applied_twice_changes_nothing_the_second_time(order):
    payment = capture(start(order))
    again = capture(payment)
    assert (again.pk, again.status, again.captured_at) == (
        payment.pk,
        "captured",
        payment.captured_at,
    )
    assert entries(JournalEntry.Kind.CAPTURE, order=order) == 1
    assert Payment.objects.get(pk=payment.pk).status == "captured"
    assert order.history.filter(to_status="paid").count() == 1
    assert ProviderRefund.objects.count() == 0


def test_a_capture_cancels_the_orders_other_pending_payments(order):
    first, second = start(order), start(order)
    capture(second)
    assert Payment.objects.get(pk=first.pk).status == "cancelled"


def test_a_capture_of_an_unknown_payment_is_not_found(order):
    with pytest.raises(NotFound) as refused, transaction.atomic():
        payments.capture(provider="sandbox", reference="P-nobody", amount=9900)
    assert refused.value.code == "payment_not_found"


def test_money_arriving_after_the_deadline_cancellation_goes_back(order, supplier_pair):
    # given a payment started in time, and the order cancelled at its deadline
    payment = start(order)
    with transaction.atomic():
        assert orders.expire_unpaid(now=order.payment_deadline) == 1
    sku = SKU.objects.get(order_lines__order=order)
    assert sku.stock == 100
    # when the provider then reports the money in, inside the entry point's transaction
    with transaction.atomic():
        late = payments.capture(
            provider="sandbox", reference=payment.reference, amount=9900, transaction_id="txn-9"
        )
        # then it is owed back to the payer, and the refund is only recorded so far
        assert late.status == "refunded_late"
        refund = ProviderRefund.objects.get(payment=payment)
        assert (refund.status, refund.amount, refund.refund_id) == ("pending", 9900, None)
        assert entries(JournalEntry.Kind.LATE_PAYMENT, payment=payment) == 1
        assert entries(JournalEntry.Kind.LATE_PAYMENT_REFUND, payment=payment) == 0
    # and once that transaction has ended, the sandbox has refunded it
    refund.refresh_from_db()
    assert (refund.status, refund.attempts) == ("succeeded", 1)
    assert entries(JournalEntry.Kind.LATE_PAYMENT_REFUND, payment=payment) == 1
    # the order stays cancelled: nothing captured, no stock taken again, no split booked
    assert Order.objects.get(pk=order.pk).status == "cancelled"
    assert Payment.objects.get(pk=payment.pk).status == "refunded_late"
    assert entries(JournalEntry.Kind.CAPTURE) == 0
    assert SKU.objects.get(pk=sku.pk).stock == 100
    assert ledger.balances(ledger.PLATFORM, "CNY") == {"clearing": 0, "late_payment_refund": 0}
    assert ledger.balances(ledger.supplier_owner(supplier_pair[0].id), "CNY") == {}


def test_a_late_capture_applied_twice_refunds_once(order):
    payment = start(order)
    with transaction.atomic():
        orders.expire_unpaid(now=order.payment_deadline)
    capture(payment)
    capture(payment)
    assert ProviderRefund.objects.filter(payment=payment).count() == 1
    assert entries(JournalEntry.Kind.LATE_PAYMENT, payment=payment) == 1
    assert entries(JournalEntry.Kind.LATE_PAYMENT_REFUND, payment=payment) == 1


def test_a_capture_of_a_different_amount_is_refunded(order):
    # given a payment of ¥99.00, when the provider reports ¥90.00
    payment = capture(start(order), amount=9000)
    # then that money goes back, and the order still awaits its payment
    assert (payment.status, payment.amount) == ("refunded_late", 9000)
    refund = ProviderRefund.objects.get(payment=payment)
    assert (refund.status, refund.amount) == ("succeeded", 9000)
    assert entries(JournalEntry.Kind.LATE_PAYMENT, payment=payment) == 1
    assert entries(JournalEntry.Kind.LATE_PAYMENT_REFUND, payment=payment) == 1
    assert entries(JournalEntry.Kind.CAPTURE) == 0
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_a_second_payment_of_a_paid_order_is_refunded(order):
    # given two payments started, and the first captured
    first, second = start(order), start(order)
    capture(first)
    # when the second is paid too
    refunded = capture(second)
    # then it goes back, and the order is paid once
    assert refunded.status == "refunded_late"
    assert ProviderRefund.objects.get().payment_id == second.pk
    assert ProviderRefund.objects.get().status == "succeeded"
    assert entries(JournalEntry.Kind.CAPTURE, order=order) == 1
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert ledger.balances(ledger.PLATFORM, "CNY")["clearing"] == -9900


# ---- handle_webhook --------------------------------------------------------------


def test_a_signed_notification_captures_the_payment(order):
    payment = start(order)
    body, headers = notify(payment)
    assert webhook(body, headers) == 1
    assert Payment.objects.get(pk=payment.pk).status == "captured"
    assert Order.objects.get(pk=order.pk).status == "paid"
    event = WebhookEvent.objects.get()
    assert (event.provider, event.event_type, event.event_id) == (
        "sandbox",
        "payment_succeeded",
        json.loads(body)["id"],
    )


def test_a_replayed_notification_applies_once(order):
    payment = start(order)
    body, headers = notify(payment)
    assert (webhook(body, headers), webhook(body, headers)) == (1, 0)
    assert WebhookEvent.objects.count() == 1
    assert entries(JournalEntry.Kind.CAPTURE, order=order) == 1
    assert order.history.filter(to_status="paid").count() == 1


def test_a_forged_signature_is_refused(order, settings):
    payment = start(order)
    body = sandbox.payment_notification(reference=payment.reference, amount=payment.amount)
    settings.KINSHOP_SANDBOX_WEBHOOK_SECRET = "not-the-platforms-secret"
    forged = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    settings.KINSHOP_SANDBOX_WEBHOOK_SECRET = "the-platforms-secret"
    with pytest.raises(InvalidInput) as refused:
        webhook(body, forged)
    assert refused.value.code == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    assert (Payment.objects.get(pk=payment.pk).status, Order.objects.get(pk=order.pk).status) == (
        "pending",
        "pending_payment",
    )


def test_a_tampered_body_is_refused(order):
    payment = start(order)
    body, headers = notify(payment)
    tampered = body.replace(b'"amount": 9900', b'"amount": 1')
    assert tampered != body
    with pytest.raises(InvalidInput) as refused:
        webhook(tampered, headers)
    assert refused.value.code == "invalid_signature"
    assert WebhookEvent.objects.count() == 0


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "stale"])
def test_a_notification_without_a_valid_signature_header_is_refused(order, header):
    payment = start(order)
    body, _ = notify(payment)
    if header == "stale":
        header = sandbox.sign(body, timestamp=int(time.time()) - sandbox.TOLERANCE_SECONDS - 60)
    with pytest.raises(InvalidInput) as refused:
        webhook(body, {sandbox.SIGNATURE_HEADER: header} if header else {})
    assert refused.value.code == "invalid_signature"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


# ---- sandbox_confirm -------------------------------------------------------------


def confirm(payment: Payment, user) -> Payment:
    with transaction.atomic():
        return payments.sandbox_confirm(user=user, payment_id=payment.id)


def test_the_buyer_confirms_a_sandbox_payment(order, buyer):
    payment = confirm(start(order), buyer)
    assert payment.status == "captured"
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert WebhookEvent.objects.count() == 1


def test_an_operator_may_confirm_a_sandbox_payment(order, operator):
    assert confirm(start(order), operator).status == "captured"


@pytest.mark.parametrize("who", ["shopkeeper", "supplier"])
def test_who_sees_the_order_but_did_not_buy_cannot_confirm(order, supplier_pair, who):
    payment = start(order)
    user = order.shop.owner if who == "shopkeeper" else supplier_pair[1]
    with pytest.raises(Forbidden) as refused:
        confirm(payment, user)
    assert refused.value.code == "not_buyer"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_a_stranger_cannot_find_the_payment_to_confirm(order):
    payment = start(order)
    with pytest.raises(NotFound) as refused:
        confirm(payment, testing.make_user())
    assert refused.value.code == "payment_not_found"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


def test_an_offline_payment_is_not_confirmed_by_the_sandbox(order, buyer):
    payment = start(order, provider="offline")
    with pytest.raises(Conflict) as refused:
        confirm(payment, buyer)
    assert refused.value.code == "not_sandbox_payment"


def test_the_sandbox_confirms_nothing_when_it_is_off(order, buyer, settings):
    payment = start(order)
    settings.KINSHOP_PAYMENT_SANDBOX = False
    with pytest.raises(NotFound) as refused:
        confirm(payment, buyer)
    assert refused.value.code == "sandbox_disabled"
    assert Payment.objects.get(pk=payment.pk).status == "pending"


# ---- receive_offline -------------------------------------------------------------


def receive(payment: Payment, user) -> Payment:
    with transaction.atomic():
        return payments.receive_offline(user=user, payment_id=payment.id)


def test_the_suppliers_staff_confirm_an_offline_payment(order, supplier_pair):
    payment = receive(start(order, provider="offline"), supplier_pair[1])
    assert payment.status == "captured"
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert entries(JournalEntry.Kind.CAPTURE, order=order) == 1


def test_an_operator_confirms_an_offline_payment(order, operator):
    assert receive(start(order, provider="offline"), operator).status == "captured"


@pytest.mark.parametrize(
    ("who", "error", "code"),
    [
        ("buyer", Forbidden, "not_allowed"),
        ("shopkeeper", Forbidden, "not_allowed"),
        ("other_supplier", NotFound, "payment_not_found"),
        ("stranger", NotFound, "payment_not_found"),
    ],
)
def test_no_one_else_confirms_an_offline_payment(order, who, error, code):
    payment = start(order, provider="offline")
    user = {
        "buyer": order.buyer,
        "shopkeeper": order.shop.owner,
        "other_supplier": testing.make_supplier()[1],
        "stranger": testing.make_user(),
    }[who]
    with pytest.raises(error) as refused:
        receive(payment, user)
    assert refused.value.code == code
    assert Payment.objects.get(pk=payment.pk).status == "pending"
    assert Order.objects.get(pk=order.pk).status == "pending_payment"


def test_a_sandbox_payment_is_not_received_offline(order, operator):
    payment = start(order)
    with pytest.raises(Conflict) as refused:
        receive(payment, operator)
    assert refused.value.code == "not_offline_payment"
    assert Payment.objects.get(pk=payment.pk).status == "pending"
