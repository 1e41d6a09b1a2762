"""WeChat Pay end to end through Kinshop's own webhook endpoint, against the
loopback server that plays WeChat Pay: pay, replayed and out-of-order
notifications, and an asynchronous refund."""

from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.orders.models import Order, Refund
from kinshop.payments.models import Payment, ProviderRefund, WebhookEvent
from kinshop.payments.tests.wechatpay_server import FakeWeChatPay

pytestmark = pytest.mark.django_db

ADDRESS = {"name": "王小明", "phone": "13800138000", "region": "杭州", "detail": "文三路 90 号"}
WEBHOOK = "/api/v1/payments/webhooks/wechatpay"


@pytest.fixture
def wechat(settings, tmp_path):
    with FakeWeChatPay(tmp_path) as fake:
        settings.KINSHOP_WECHATPAY = fake.settings_dict()
        yield fake


def deliver(client, body_and_headers):
    body, headers = body_and_headers
    return client.post(WEBHOOK, data=body, content_type="application/json", headers=headers)


def test_pay_with_wechat_then_refund_asynchronously(wechat, api, shop, client, supplier_pair):
    _, staff = supplier_pair
    buyer = testing.make_user()
    sku = shop.selections.get().product.skus.get()
    order = (
        api(buyer)
        .post(
            "/orders",
            {"shop": shop.handle, "lines": [{"sku_id": sku.id, "quantity": 1}], "address": ADDRESS},
        )
        .json()
    )
    # when the buyer pays with WeChat Pay, Kinshop gets a code URL from the (fake) provider
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "wechatpay"}).json()
    assert payment["pay_url"].startswith("weixin://")
    assert wechat.requests[-1].authorized
    # and the signed, encrypted notification captures it, once, however often it comes
    callback = wechat.payment_callback(payment["reference"], payment["amount"])
    answers = [deliver(client, callback) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert Payment.objects.get(pk=payment["id"]).status == "captured"
    assert Order.objects.get(pk=order["id"]).status == "paid"

    # when a refund is approved, WeChat answers PROCESSING: the money is on its way
    wechat.refund_status = "PROCESSING"
    refund = (
        api(buyer)
        .post(f"/orders/{order['id']}/refunds", {"amount": 3300, "reason": "broken"})
        .json()
    )
    approved = api(staff).post(f"/refunds/{refund['id']}/approve").json()
    assert approved["status"] == "approved"
    provider_refund = ProviderRefund.objects.get(refund_id=refund["id"])
    # sent once, right after the approval committed, and WeChat is still at it
    assert (provider_refund.status, provider_refund.attempts) == ("sent", 1)

    # then REFUND.SUCCESS completes it and the ledger reverses the split
    done = deliver(
        client,
        wechat.refund_callback(
            payment["reference"], provider_refund.reference, 3300, payment["amount"]
        ),
    )
    assert done.status_code == 200
    assert Refund.objects.get(pk=refund["id"]).status == "succeeded"
    assert Order.objects.get(pk=order["id"]).refunded_amount == 3300


def test_a_refund_notification_for_a_refund_not_yet_known_is_delivered_again(wechat, client, shop):
    # given a REFUND.SUCCESS that arrives before the refund it names is committed
    early = wechat.refund_callback("P-unknown-payment", "R-not-yet-committed", 100, 9900)
    # then Kinshop refuses it without recording it, so WeChat delivers it again later
    response = deliver(client, early)
    assert response.status_code == 409
    assert response.json()["code"] == "unknown_refund"
    assert WebhookEvent.objects.count() == 0


def test_a_forged_wechat_notification_is_refused(wechat, client):
    body, headers = wechat.payment_callback("P-anything", 100)
    response = client.post(
        WEBHOOK, data=body + b" ", content_type="application/json", headers=headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_signature"


def test_a_refund_notification_that_overtakes_its_capture_applies_the_capture_first(
    wechat, api, shop, client, supplier_pair
):
    """Notifications may arrive in any order: here TRANSACTION.SUCCESS is still on
    its way when REFUND.SUCCESS for the same payment arrives. The refund implies
    the capture, so both are applied, in that order, and the late capture
    notification then changes nothing."""
    from kinshop.core import clock

    # given an order whose WeChat payment Kinshop has not yet heard about, and an
    # approved refund already sent to WeChat for it
    buyer = testing.make_user()
    sku = shop.selections.get().product.skus.get()
    order = (
        api(buyer)
        .post(
            "/orders",
            {"shop": shop.handle, "lines": [{"sku_id": sku.id, "quantity": 1}], "address": ADDRESS},
        )
        .json()
    )
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "wechatpay"}).json()
    refund = Refund.objects.create(
        order_id=order["id"],
        amount=1000,
        reason="overtaken",
        status="approved",
        requested_by=buyer,
        created_at=clock.now(),
        supplier_id=supplier_pair[0].id,
    )
    provider_refund = ProviderRefund.objects.create(
        payment_id=payment["id"],
        refund=refund,
        amount=1000,
        reference="R-overtakes",
        created_at=clock.now(),
    )
    # when the refund notification comes first
    response = deliver(
        client, wechat.refund_callback(payment["reference"], "R-overtakes", 1000, payment["amount"])
    )
    # then the capture is applied, then the refund, and the ledger stays whole
    assert response.status_code == 200
    assert Payment.objects.get(pk=payment["id"]).status == "captured"
    provider_refund.refresh_from_db()
    assert provider_refund.status == "succeeded"
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"
    assert Order.objects.get(pk=order["id"]).refunded_amount == 1000
    # and the capture notification, arriving last, changes nothing
    late = deliver(client, wechat.payment_callback(payment["reference"], payment["amount"]))
    assert late.status_code == 200
    assert (
        late.json()["applied"] == 1
    )  # a new event, recorded, but the payment was captured already
    assert Payment.objects.filter(order_id=order["id"], status="captured").count() == 1
