"""Money arriving through the API is screened for fraud in the same request:
a flag (and the hold on its commission) exists before any job runs."""

from __future__ import annotations

import pytest
from django.test import Client

from kinshop import testing
from kinshop.ledger.models import CommissionHold
from kinshop.orders import services as orders
from kinshop.payments import services as payments
from kinshop.payments.providers import sandbox
from kinshop.sharing import services as sharing
from kinshop.trust.models import FraudFlag, OrderScreening
from kinshop.trust.tests.helpers import address, buy

pytestmark = pytest.mark.django_db


def _unpaid(*, shop, product, buyer, sharer):
    code = sharing.create_share_link(sharer=sharer, shop=shop, product=product).code
    order = orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[orders.LineRequest(product.skus.order_by("id").first().id, 1)],
        address=address(),
        share_code=code,
    )
    payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")
    testing.commit()
    return order, payment


def _ring_of_three_but_the_last_unpaid(shop, product):
    a, b, c = (testing.make_user() for _ in range(3))
    buy(shop=shop, product=product, buyer=a, sharer=b)
    buy(shop=shop, product=product, buyer=b, sharer=c)
    return _unpaid(shop=shop, product=product, buyer=c, sharer=a)


def test_a_sandbox_payment_through_the_api_is_screened_at_once(shop, product):
    order, payment = _ring_of_three_but_the_last_unpaid(shop, product)
    assert not FraudFlag.objects.exists()  # nothing is screened before payment

    response = testing.ApiClient(order.buyer).post(f"/payments/{payment.id}/sandbox-confirm")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "captured"
    assert OrderScreening.objects.filter(order=order).exists()
    flag = FraudFlag.objects.get()
    assert flag.kind == "order_ring" and order.id in flag.order_ids
    assert CommissionHold.objects.filter(status="held").count() == 3


def test_a_providers_webhook_is_screened_at_once(shop, product):
    _, payment = _ring_of_three_but_the_last_unpaid(shop, product)
    body = sandbox.payment_notification(reference=payment.reference, amount=payment.amount)
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}

    response = Client().post(
        "/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    assert response.json()["applied"] == 1
    assert FraudFlag.objects.get().kind == "order_ring"

    # The same notification again changes nothing and raises nothing new.
    again = Client().post(
        "/api/v1/payments/webhooks/sandbox", body, content_type="application/json", headers=headers
    )
    assert again.json()["applied"] == 0
    assert FraudFlag.objects.count() == 1


def test_a_clean_payment_is_screened_and_flags_nothing(shop, product):
    buyer, sharer = testing.make_user(), testing.make_user()
    order, payment = _unpaid(shop=shop, product=product, buyer=buyer, sharer=sharer)

    response = testing.ApiClient(buyer).post(f"/payments/{payment.id}/sandbox-confirm")

    assert response.status_code == 200
    assert OrderScreening.objects.filter(order=order).exists()
    assert not FraudFlag.objects.exists()
