"""The outbox of money calls: a provider refund is recorded in the transaction
that approves it, carried out after that transaction has ended, retried with a
growing delay when the provider fails, and never carried out twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from kinshop import testing
from kinshop.core import clock
from kinshop.core import tasks as outbox
from kinshop.ledger.models import JournalEntry
from kinshop.ops.jobs import run_due
from kinshop.orders import services as orders
from kinshop.orders.models import Order, Refund
from kinshop.orders.rules import Address, LineRequest
from kinshop.payments import services as payments
from kinshop.payments.models import ProviderRefund
from kinshop.payments.providers import base, sandbox

pytestmark = pytest.mark.django_db

ADDRESS = Address(name="王小明", phone="13800138000", region="杭州市西湖区", detail="文三路 90 号")


@pytest.fixture
def requested_refund(shop, supplier_pair):
    """A paid order of ¥99.00 and the buyer's request for ¥33.00 of it back."""
    _, staff = supplier_pair
    buyer = testing.make_user()
    sku = shop.selections.get().product.skus.get()
    with transaction.atomic():
        order = orders.place_order(
            buyer=buyer, shop=shop, lines=[LineRequest(sku_id=sku.id, quantity=1)], address=ADDRESS
        )
        payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
    with transaction.atomic():
        payments.sandbox_confirm(user=buyer, payment_id=payment.id)
    with transaction.atomic():
        refund = orders.request_refund(user=buyer, order_id=order.id, amount=3300, reason="broken")
    return refund, staff


class CountingProvider(sandbox.SandboxProvider):
    """The sandbox, counting its refund calls and noting whether an entry point's
    transaction was still open when each came in."""

    def __init__(self, *, failures: int = 0) -> None:
        self.calls: list[bool] = []
        self.failures = failures

    def send_refund(self, **kwargs) -> base.SentRefund:
        self.calls.append(testing.only_test_transactions_open())
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the provider did not answer")
        return super().send_refund(**kwargs)


@pytest.fixture
def provider(monkeypatch):
    counting = CountingProvider()
    monkeypatch.setattr(payments, "get_provider", lambda name, must_be_enabled=True: counting)
    return counting


def refund_entries(refund: Refund) -> int:
    return JournalEntry.objects.filter(kind=JournalEntry.Kind.REFUND, refund=refund).count()


def test_an_approved_refund_is_recorded_in_the_decision_and_sent_after_it(
    requested_refund, provider
):
    refund, staff = requested_refund
    # when the supplier approves, inside the entry point's transaction
    with transaction.atomic():
        payments.approve_refund(user=staff, refund_id=refund.id)
        # then the money call is recorded, not made: no provider call under the lock
        provider_refund = ProviderRefund.objects.get(refund=refund)
        assert (provider_refund.status, provider_refund.attempts) == ("pending", 0)
        assert DBTaskResult.objects.ready().count() == 1
        assert provider.calls == []
        assert refund_entries(refund) == 0
    # and once that transaction has ended, it is made once, outside any transaction
    assert provider.calls == [True]
    provider_refund.refresh_from_db()
    assert (provider_refund.status, provider_refund.attempts) == ("succeeded", 1)
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"
    assert Order.objects.get(pk=refund.order_id).refunded_amount == 3300
    assert refund_entries(refund) == 1
    assert DBTaskResult.objects.successful().count() == 1


def test_a_decision_rolled_back_leaves_no_money_call(requested_refund, provider):
    refund, staff = requested_refund
    with pytest.raises(RuntimeError), transaction.atomic():
        payments.approve_refund(user=staff, refund_id=refund.id)
        raise RuntimeError("something failed after the decision")
    assert ProviderRefund.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    assert provider.calls == []
    assert Refund.objects.get(pk=refund.pk).status == "requested"


def test_a_refund_carried_out_twice_is_sent_and_booked_once(requested_refund, provider):
    refund, staff = requested_refund
    with transaction.atomic():
        payments.approve_refund(user=staff, refund_id=refund.id)
    provider_refund = ProviderRefund.objects.get(refund=refund)
    # when a second worker runs the same task again (a redelivery)
    assert payments.send_provider_refund(provider_refund_id=provider_refund.pk) == "succeeded"
    # then nothing more happens
    assert provider.calls == [True]
    assert refund_entries(refund) == 1
    assert Order.objects.get(pk=refund.order_id).refunded_amount == 3300


def test_a_failing_provider_is_retried_later_and_finally_given_up(
    requested_refund, provider, settings
):
    refund, staff = requested_refund
    settings.KINSHOP_REFUND_ATTEMPTS = 2
    provider.failures = 2
    # when the approval's first attempt fails
    with transaction.atomic():
        payments.approve_refund(user=staff, refund_id=refund.id)
    provider_refund = ProviderRefund.objects.get(refund=refund)
    assert (provider_refund.status, provider_refund.attempts) == ("pending", 1)
    assert provider_refund.last_error == "the provider did not answer"
    # then a retry waits its delay (30 s): nothing is ready to run yet
    retry = DBTaskResult.objects.get(status="READY")
    assert dt.timedelta(seconds=25) < retry.run_after - timezone.now() <= dt.timedelta(seconds=30)
    assert outbox.run_ready() == 0
    # when the delay has passed and the second attempt fails too
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    assert outbox.run_ready() == 1
    # then the refund is given up: failed, nothing booked, the order untouched
    provider_refund.refresh_from_db()
    assert (provider_refund.status, provider_refund.attempts) == ("failed", 2)
    assert Refund.objects.get(pk=refund.pk).status == "failed"
    assert Order.objects.get(pk=refund.order_id).refunded_amount == 0
    assert refund_entries(refund) == 0
    assert provider.calls == [True, True]


def test_a_refund_whose_sender_died_is_sent_again_by_the_jobs(requested_refund, provider, settings):
    refund, staff = requested_refund
    # given an approval whose process died before it could send the refund
    settings.KINSHOP_TASKS_EAGER = False
    with transaction.atomic():
        payments.approve_refund(user=staff, refund_id=refund.id)
    DBTaskResult.objects.update(status="RUNNING")  # claimed by the process that died
    provider_refund = ProviderRefund.objects.get(refund=refund)
    # when the jobs run before the refund's lease is over, they leave it alone
    assert run_due(clock.now())["retry_refunds"] == 0
    assert provider.calls == []
    # and when they run after it, the refund goes out once and is booked once
    counts = run_due(provider_refund.next_attempt_at + dt.timedelta(seconds=1))
    assert (counts["retry_refunds"], counts["tasks"]) == (1, 1)
    assert provider.calls == [True]
    assert ProviderRefund.objects.get(pk=provider_refund.pk).status == "succeeded"
    assert refund_entries(refund) == 1
