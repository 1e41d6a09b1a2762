"""A refund the provider refuses: every step is recorded, and a failed refund
stays failed (its provider refunds are recorded once and cannot be sent twice)."""

from __future__ import annotations

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.core.errors import Conflict
from kinshop.orders import services as orders
from kinshop.orders.models import Order
from kinshop.payments import services as payments
from kinshop.payments.providers import base, sandbox
from kinshop.web.tests.helpers import place_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def refused_refund(shop, product, monkeypatch):
    """An approved refund the provider takes asynchronously, then refuses."""
    order = place_paid_order(shop=shop, sku=product.skus.first())
    monkeypatch.setattr(
        sandbox.SandboxProvider,
        "send_refund",
        lambda self, **kwargs: base.SentRefund(provider_refund_id="sbx_rf_1", succeeded=False),
    )
    operator = testing.make_operator()
    with transaction.atomic():
        refund = orders.request_refund(
            user=order.buyer, order_id=order.id, amount=order.total, reason="坏了"
        )
        refund = payments.approve_refund(user=operator, refund_id=refund.pk, note="同意")
    assert refund.status == "approved"
    refund.refresh_from_db()  # sent once the approval committed; the provider is at it
    with transaction.atomic():
        payments._apply(
            "sandbox",
            base.Notification(
                event_id="evt-1",
                kind=base.REFUND_FAILED,
                payment_reference="",
                amount=order.total,
                refund_reference=refund.provider_refunds.get().reference,
            ),
        )
    refund.refresh_from_db()
    return refund, operator


def test_a_refused_refund_fails_with_its_whole_history(refused_refund):
    refund, operator = refused_refund

    assert refund.status == "failed"
    assert [(c.from_status, c.to_status, c.actor) for c in refund.history.all()] == [
        ("", "requested", refund.requested_by),
        ("requested", "approved", operator),
        ("approved", "failed", None),
    ]
    provider_refund = refund.provider_refunds.get()
    assert provider_refund.status == "failed"
    assert [(c.from_status, c.to_status) for c in provider_refund.history.all()] == [
        ("", "pending"),
        ("pending", "sent"),
        ("sent", "failed"),
    ]
    assert Order.objects.get(pk=refund.order_id).status == "paid"


def test_a_failed_refund_cannot_be_approved_again(refused_refund):
    refund, operator = refused_refund

    with pytest.raises(Conflict) as refused, transaction.atomic():
        payments.approve_refund(user=operator, refund_id=refund.pk)

    assert refused.value.code == "invalid_transition"
    refund.refresh_from_db()
    assert refund.status == "failed"


def test_failing_twice_changes_nothing(refused_refund):
    refund, _ = refused_refund
    with transaction.atomic():
        orders.fail_refund(refund_id=refund.pk)
    assert refund.history.count() == 3
