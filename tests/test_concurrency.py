"""Concurrency on PostgreSQL with real threads and real connections: stock is
never oversold, one Idempotency-Key makes one order, a replayed capture captures
once. Each thread is a separate client with its own database connection."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.orders.models import Order
from kinshop.payments.models import Payment, WebhookEvent
from kinshop.payments.providers import sandbox

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ADDRESS = {"name": "李雷", "phone": "13900139000", "region": "上海市", "detail": "南京东路 1 号"}


def run_together(count: int, work: Callable[[int], object]) -> list[object]:
    """Start `count` threads that wait at a barrier and then all call `work`."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # surfaced by the assertions below
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def last_ten_units():
    # The services lock rows, so they need a transaction like any entry point.
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff, title="限量 Limited")
        sku = product.skus.get()
        SKU.objects.filter(pk=sku.pk).update(stock=10)
        shop = testing.make_shop(products=[product])
    return shop, sku


def test_fifty_buyers_for_the_last_ten_units(last_ten_units):
    shop, sku = last_ten_units
    clients = [testing.ApiClient(testing.make_user()) for _ in range(50)]
    payload = {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": 1}],
        "address": ADDRESS,
    }

    results = run_together(50, lambda i: clients[i].post("/orders", payload))

    statuses = Counter(getattr(result, "status_code", repr(result)) for result in results)
    assert statuses == {201: 10, 409: 40}
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"out_of_stock"}
    assert SKU.objects.get(pk=sku.pk).stock == 0
    assert Order.objects.filter(shop=shop).count() == 10


def test_twenty_repeats_of_one_idempotency_key_make_one_order(last_ten_units):
    shop, sku = last_ten_units
    client_user = testing.make_user()
    clients = [testing.ApiClient(client_user) for _ in range(20)]
    payload = {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": 2}],
        "address": ADDRESS,
    }
    key = {"Idempotency-Key": "one-checkout"}

    results = run_together(20, lambda i: clients[i].post("/orders", payload, headers=key))

    assert {getattr(r, "status_code", repr(r)) for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert Order.objects.filter(buyer=client_user).count() == 1
    assert SKU.objects.get(pk=sku.pk).stock == 8


def test_a_capture_delivered_ten_times_at_once_captures_once(last_ten_units):
    shop, sku = last_ten_units
    buyer = testing.ApiClient(testing.make_user())
    order = buyer.post(
        "/orders",
        {"shop": shop.handle, "lines": [{"sku_id": sku.id, "quantity": 1}], "address": ADDRESS},
    ).json()
    payment = buyer.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    body = sandbox.payment_notification(reference=payment["reference"], amount=payment["amount"])
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}

    def deliver(_: int):
        return testing.ApiClient().client.post(
            "/api/v1/payments/webhooks/sandbox",
            data=body,
            content_type="application/json",
            headers=headers,
        )

    results = run_together(10, deliver)

    assert {getattr(r, "status_code", repr(r)) for r in results} == {200}
    assert sum(r.json()["applied"] for r in results) == 1
    assert Payment.objects.filter(order_id=order["id"], status="captured").count() == 1
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.get(pk=order["id"]).status == "paid"


def test_payment_and_deadline_job_race_leaves_one_outcome(last_ten_units):
    """A capture and the expiry job hitting one order at once: either the order
    is paid and keeps its stock, or it is cancelled and the money goes back."""
    import datetime as dt

    from kinshop.core import clock
    from kinshop.ops.jobs import run_due

    shop, sku = last_ten_units
    buyer = testing.ApiClient(testing.make_user())
    order = buyer.post(
        "/orders",
        {"shop": shop.handle, "lines": [{"sku_id": sku.id, "quantity": 3}], "address": ADDRESS},
    ).json()
    payment = buyer.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    body = sandbox.payment_notification(reference=payment["reference"], amount=payment["amount"])
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}

    def act(index: int):
        if index == 0:
            return testing.ApiClient().client.post(
                "/api/v1/payments/webhooks/sandbox",
                data=body,
                content_type="application/json",
                headers=headers,
            )
        return run_due(clock.now() + dt.timedelta(minutes=31))

    run_together(2, act)

    final = Order.objects.get(pk=order["id"])
    captured = Payment.objects.get(pk=payment["id"]).status
    if final.status == "paid":
        assert captured == "captured"
        assert SKU.objects.get(pk=sku.pk).stock == 7
    else:
        assert final.status == "cancelled"
        assert captured == "refunded_late"
        assert SKU.objects.get(pk=sku.pk).stock == 10
