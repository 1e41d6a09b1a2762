"""The commerce loop through the public API, and every refusal it owes."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order
from kinshop.orders.tests.conftest import ADDRESS, order_payload
from kinshop.payments.models import Payment, WebhookEvent
from kinshop.payments.providers import sandbox
from kinshop.shops.models import SelectionPrice, Shop

pytestmark = pytest.mark.django_db


def place(api, buyer, shop, sku, quantity=1, **extra):
    response = api(buyer).post("/orders", order_payload(shop, sku, quantity, **extra))
    assert response.status_code == 201, response.json()
    return response.json()


def pay(api, buyer, order_id):
    client = api(buyer)
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    confirmed = client.post(f"/payments/{payment['id']}/sandbox-confirm")
    assert confirmed.status_code == 200, confirmed.json()
    return confirmed.json()


def test_the_whole_loop_place_pay_ship_confirm(api, shop, sku, buyer, supplier_pair):
    # given a shop selling one SKU at 99.00
    _, staff = supplier_pair
    # when the buyer orders two
    order = place(api, buyer, shop, sku, 2)
    # then stock is reserved and the order awaits payment
    assert order["status"] == "pending_payment"
    assert order["total"] == 19800
    assert order["currency"] == "CNY"
    assert order["lines"][0]["unit_price"] == 9900
    assert order["lines"][0]["commission_beneficiary_id"] is None
    assert SKU.objects.get(pk=sku.pk).stock == 98

    payment = pay(api, buyer, order["id"])
    assert payment["status"] == "captured"
    assert api(buyer).get(f"/orders/{order['id']}").json()["status"] == "paid"

    shipped = api(staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "SF123"}
    )
    assert shipped.status_code == 201, shipped.json()
    assert api(buyer).get(f"/orders/{order['id']}").json()["status"] == "shipped"

    confirmed = api(buyer).post(f"/orders/{order['id']}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "completed"


def test_orders_are_listed_per_role(api, shop, sku, buyer, supplier_pair):
    _, staff = supplier_pair
    order = place(api, buyer, shop, sku)
    assert api(buyer).get("/orders").json()["count"] == 1
    assert api(shop.owner).get("/orders", **{"as": "shop"}).json()["count"] == 1
    assert api(staff).get("/orders", **{"as": "supplier"}).json()["count"] == 1
    assert api(staff).get("/orders").json()["count"] == 0  # staff bought nothing themselves
    stranger = testing.make_user()
    assert api(stranger).get("/orders", **{"as": "shop"}).json()["count"] == 0
    assert api(stranger).get(f"/orders/{order['id']}").status_code == 404
    assert api().get(f"/orders/{order['id']}").status_code == 401


@pytest.mark.parametrize(
    ("lines", "status", "code"),
    [
        ([{"sku_id": 999999, "quantity": 1}], 422, "unknown_sku"),
        ([{"sku_id": "SKU", "quantity": 1}], 422, "invalid_input"),
        ([{"sku_id": "{sku}", "quantity": 0}], 422, "invalid_input"),
        ([{"sku_id": "{sku}", "quantity": -3}], 422, "invalid_input"),
        ([], 422, "invalid_input"),
    ],
)
def test_bad_lines_are_refused_clearly(api, shop, sku, buyer, lines, status, code):
    lines = [
        {**line, "sku_id": sku.id if line["sku_id"] == "{sku}" else line["sku_id"]}
        for line in lines
    ]
    response = api(buyer).post("/orders", {"shop": shop.handle, "lines": lines, "address": ADDRESS})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert set(response.json()) <= {"code", "message", "details"}
    assert Order.objects.count() == 0


def test_a_sku_the_shop_does_not_sell_is_refused(api, shop, buyer, supplier_pair):
    _, staff = supplier_pair
    other = testing.make_product(staff=staff, title="Not in this shop").skus.get()
    response = api(buyer).post("/orders", order_payload(shop, other))
    assert response.status_code == 422
    assert response.json()["code"] == "sku_not_sold_here"


@pytest.mark.parametrize("state", ["unknown", "inactive", "suspended"])
@pytest.mark.parametrize("lines", ["sold", "unknown_sku"])
def test_a_shop_that_cannot_sell_answers_the_same_whatever_the_lines(
    api, shop, sku, buyer, state, lines
):
    # the shop is read with the SKUs in one query: when that finds nothing (no
    # such SKU), the shop is looked up alone, and its answer still comes first
    handle = shop.handle
    if state == "unknown":
        handle = "no-such-shop"
    else:
        Shop.objects.filter(pk=shop.pk).update(
            **{
                "inactive": {"is_active": False},
                "suspended": {"is_suspended": True},
            }[state]
        )
    payload = {**order_payload(shop, sku), "shop": handle.upper()}
    if lines == "unknown_sku":
        payload["lines"] = [{"sku_id": 999999, "quantity": 1}]
    response = api(buyer).post("/orders", payload)
    expected = (409, "suspended") if state == "suspended" else (404, "shop_not_found")
    assert (response.status_code, response.json()["code"]) == expected
    assert Order.objects.count() == 0
    assert SKU.objects.get(pk=sku.pk).stock == sku.stock


def test_an_order_by_handle_reads_the_shop_it_names(api, shop, sku, buyer):
    # the handle is matched as the storefront matches it (lower case)
    payload = {**order_payload(shop, sku), "shop": shop.handle.upper()}
    response = api(buyer).post("/orders", payload)
    assert response.status_code == 201, response.json()
    assert response.json()["shop"] == shop.handle
    order = Order.objects.get(pk=response.json()["id"])
    assert (order.shop_id, order.lines.get().unit_price) == (
        shop.pk,
        SelectionPrice.objects.get(shop=shop, sku=sku).retail_price,
    )


def test_more_than_the_stock_is_out_of_stock(api, shop, sku, buyer):
    response = api(buyer).post("/orders", order_payload(shop, sku, 101))
    assert response.status_code == 409
    assert response.json()["code"] == "out_of_stock"
    assert SKU.objects.get(pk=sku.pk).stock == 100


def test_unknown_shop_and_bad_address(api, sku, buyer, shop):
    assert (
        api(buyer).post("/orders", {**order_payload(shop, sku), "shop": "nope"}).status_code == 404
    )
    bad = {**order_payload(shop, sku), "address": {**ADDRESS, "phone": "call me"}}
    response = api(buyer).post("/orders", bad)
    assert response.status_code == 422
    assert response.json()["code"] in {"invalid_phone", "invalid_input"}


def test_malformed_json_is_a_400(api, buyer):
    client = api(buyer)
    response = client.client.post(
        "/api/v1/orders", data="{", content_type="application/json", headers=client.headers
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_body"


def test_create_order_query_count_does_not_grow_with_lines(api, supplier_pair, buyer):
    _, staff = supplier_pair
    products = [testing.make_product(staff=staff) for _ in range(10)]
    shop = testing.make_shop(products=products)
    skus = [product.skus.get() for product in products]
    client = api(buyer)

    def order(lines):
        # 12: the token; the SKUs with their prices, the shop and the id of the
        # buyer's last click on it (none; the SKUs locked); the buyer's
        # identifiers (phone and device, one insert); the stock; the unpaid units
        # of these SKUs; the order, its one fulfilment, its lines and two history
        # rows; the transaction's savepoint and release (the test's own
        # transaction is around it). Nothing read back; not one more per line.
        with testing.assert_query_count(12):
            response = client.post(
                "/orders", {"shop": shop.handle, "lines": lines, "address": ADDRESS}
            )
        assert response.status_code == 201, response.json()

    order([{"sku_id": skus[0].id, "quantity": 1}])
    order([{"sku_id": sku.id, "quantity": 2} for sku in skus])


def test_paying_someone_elses_order_is_refused(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    thief = testing.make_user()
    response = api(thief).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"})
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
    # the shopkeeper can see the order but not pay it
    response = api(shop.owner).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"})
    assert response.status_code == 403


def test_unknown_provider_is_refused(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    response = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "bitcoin"})
    assert response.status_code == 422


def test_sandbox_is_off_unless_enabled(api, shop, sku, buyer, settings):
    order = place(api, buyer, shop, sku)
    settings.KINSHOP_PAYMENT_SANDBOX = False
    response = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"})
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_provider"


def test_shipping_another_suppliers_part_is_refused(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    pay(api, buyer, order["id"])
    _, other_staff = testing.make_supplier()
    response = api(other_staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "1"}
    )
    assert response.status_code == 404
    response = api(buyer).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "1"}
    )
    assert response.status_code == 403


def test_each_supplier_ships_its_own_part(api, buyer, supplier_pair):
    # given an order with lines from two suppliers
    _, staff_a = supplier_pair
    _, staff_b = testing.make_supplier()
    product_a = testing.make_product(staff=staff_a)
    product_b = testing.make_product(staff=staff_b)
    shop = testing.make_shop(products=[product_a, product_b])
    lines = [
        {"sku_id": product_a.skus.get().id, "quantity": 1},
        {"sku_id": product_b.skus.get().id, "quantity": 1},
    ]
    order = (
        api(buyer).post("/orders", {"shop": shop.handle, "lines": lines, "address": ADDRESS}).json()
    )
    pay(api, buyer, order["id"])
    # then each supplier sees only its own lines
    seen_by_a = api(staff_a).get(f"/orders/{order['id']}").json()
    assert [line["sku_id"] for line in seen_by_a["lines"]] == [product_a.skus.get().id]
    # when one ships, the order is not yet shipped
    api(staff_a).post(f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "A1"})
    assert api(buyer).get(f"/orders/{order['id']}").json()["status"] == "paid"
    # and shipping twice is a conflict
    again = api(staff_a).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "A1"}
    )
    assert again.status_code == 409
    api(staff_b).post(f"/orders/{order['id']}/shipments", {"carrier": "ZTO", "tracking_no": "B1"})
    assert api(buyer).get(f"/orders/{order['id']}").json()["status"] == "shipped"


def test_cancel_before_payment_releases_stock(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku, 3)
    assert SKU.objects.get(pk=sku.pk).stock == 97
    assert api(testing.make_user()).post(f"/orders/{order['id']}/cancel").status_code == 404
    response = api(buyer).post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == 100
    again = api(buyer).post(f"/orders/{order['id']}/cancel")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"


def test_cancel_after_payment_is_refused(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    pay(api, buyer, order["id"])
    response = api(buyer).post(f"/orders/{order['id']}/cancel")
    assert response.status_code == 409


def test_unpaid_orders_expire_and_a_late_payment_is_refunded(api, shop, sku, buyer):
    # given an order whose payment was started but never finished in time
    order = place(api, buyer, shop, sku, 2)
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    # when the deadline passes and the job runs
    with clock.travel(dt.timedelta(minutes=31)):
        counts = run_due()
        assert counts["expire_unpaid_orders"] == 1
        assert SKU.objects.get(pk=sku.pk).stock == 100
        assert Order.objects.get(pk=order["id"]).status == "cancelled"
        # then a payment that arrives afterwards is refunded, never shipped
        late = api(buyer).post(f"/payments/{payment['id']}/sandbox-confirm")
    assert late.status_code == 200
    assert late.json()["status"] == "refunded_late"
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == 100
    # and running the job again changes nothing
    assert run_due()["expire_unpaid_orders"] == 0


def test_paying_after_the_deadline_is_refused(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    with clock.travel(dt.timedelta(minutes=31)):
        response = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"})
    assert response.status_code == 409
    assert response.json()["code"] == "payment_deadline_passed"


def test_shipped_orders_auto_confirm(api, shop, sku, buyer, supplier_pair, settings):
    _, staff = supplier_pair
    order = place(api, buyer, shop, sku)
    pay(api, buyer, order["id"])
    api(staff).post(f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "1"})
    assert run_due()["auto_confirm_orders"] == 0
    with clock.travel(dt.timedelta(days=settings.KINSHOP_AUTO_CONFIRM_DAYS, minutes=1)):
        assert run_due()["auto_confirm_orders"] == 1
    assert Order.objects.get(pk=order["id"]).status == "completed"


def test_a_capture_webhook_replayed_ten_times_captures_once(api, shop, sku, buyer, client):
    order = place(api, buyer, shop, sku)
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    body = sandbox.payment_notification(reference=payment["reference"], amount=payment["amount"])
    headers = {sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
    answers = [
        client.post(
            "/api/v1/payments/webhooks/sandbox",
            data=body,
            content_type="application/json",
            headers=headers,
        )
        for _ in range(10)
    ]
    assert [answer.status_code for answer in answers] == [200] * 10
    assert [answer.json()["applied"] for answer in answers] == [1] + [0] * 9
    assert Payment.objects.filter(status="captured").count() == 1
    assert WebhookEvent.objects.count() == 1
    assert Order.objects.get(pk=order["id"]).status == "paid"


def test_a_forged_webhook_is_refused(api, shop, sku, buyer, client):
    order = place(api, buyer, shop, sku)
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    body = sandbox.payment_notification(reference=payment["reference"], amount=payment["amount"])
    forged = {sandbox.SIGNATURE_HEADER: sandbox.sign(b"something else")}
    response = client.post(
        "/api/v1/payments/webhooks/sandbox",
        data=body,
        content_type="application/json",
        headers=forged,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_signature"
    assert Payment.objects.get(pk=payment["id"]).status == "pending"


def test_a_second_payment_of_a_paid_order_goes_back(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    client = api(buyer)
    first = client.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    second = client.post(f"/orders/{order['id']}/payments", {"provider": "sandbox"}).json()
    assert client.post(f"/payments/{first['id']}/sandbox-confirm").json()["status"] == "captured"
    assert client.post(f"/payments/{second['id']}/sandbox-confirm").json()["status"] in {
        "cancelled",
        "refunded_late",
    }
    assert Payment.objects.filter(order_id=order["id"], status="captured").count() == 1


def test_offline_payment_is_confirmed_by_the_supplier(api, shop, sku, buyer, supplier_pair):
    _, staff = supplier_pair
    order = place(api, buyer, shop, sku)
    payment = api(buyer).post(f"/orders/{order['id']}/payments", {"provider": "offline"}).json()
    assert payment["status"] == "pending"
    assert api(buyer).post(f"/payments/{payment['id']}/offline-received").status_code == 403
    response = api(staff).post(f"/payments/{payment['id']}/offline-received")
    assert response.status_code == 200
    assert response.json()["status"] == "captured"
    assert Order.objects.get(pk=order["id"]).status == "paid"


def test_idempotency_key_returns_the_first_order(api, shop, sku, buyer):
    client = api(buyer)
    key = {"Idempotency-Key": "checkout-1"}
    first = client.post("/orders", order_payload(shop, sku, 2), headers=key)
    second = client.post("/orders", order_payload(shop, sku, 2), headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Order.objects.count() == 1
    assert SKU.objects.get(pk=sku.pk).stock == 98
    different = client.post("/orders", order_payload(shop, sku, 3), headers=key)
    assert different.status_code == 409
    assert different.json()["code"] == "idempotency_key_reused"
    # another user's identical key is their own
    other = api(testing.make_user()).post("/orders", order_payload(shop, sku, 2), headers=key)
    assert other.status_code == 201
    assert Order.objects.count() == 2


def test_a_failed_request_does_not_burn_its_key(api, shop, sku, buyer):
    client = api(buyer)
    key = {"Idempotency-Key": "retry-me"}
    assert client.post("/orders", order_payload(shop, sku, 1000), headers=key).status_code == 422
    assert client.post("/orders", order_payload(shop, sku, 1), headers=key).status_code == 201


# ---- after-sales ------------------------------------------------------------------


def paid_order(api, buyer, shop, sku, quantity=1):
    order = place(api, buyer, shop, sku, quantity)
    pay(api, buyer, order["id"])
    return order


def test_partial_then_full_refund(api, shop, sku, buyer, supplier_pair):
    _, staff = supplier_pair
    order = paid_order(api, buyer, shop, sku, 2)
    refund = api(buyer).post(
        f"/orders/{order['id']}/refunds", {"amount": 5000, "reason": "one arrived broken"}
    )
    assert refund.status_code == 201, refund.json()
    assert refund.json()["status"] == "requested"
    approved = api(staff).post(f"/refunds/{refund.json()['id']}/approve")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "succeeded"
    seen = api(buyer).get(f"/orders/{order['id']}").json()
    assert seen["status"] == "paid"
    assert seen["refunded_amount"] == 5000
    # the rest, and not a fen more
    too_much = api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 14801, "reason": "all"})
    assert too_much.status_code == 422
    assert too_much.json()["code"] == "refund_exceeds_paid"
    rest = (
        api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 14800, "reason": "all"}).json()
    )
    api(staff).post(f"/refunds/{rest['id']}/approve", {"restock": True})
    seen = api(buyer).get(f"/orders/{order['id']}").json()
    assert seen["status"] == "refunded"
    assert seen["refunded_amount"] == 19800
    assert SKU.objects.get(pk=sku.pk).stock == 100


def test_refund_requests_cannot_add_up_to_more_than_paid(api, shop, sku, buyer):
    order = paid_order(api, buyer, shop, sku)
    assert (
        api(buyer)
        .post(f"/orders/{order['id']}/refunds", {"amount": 9000, "reason": "a"})
        .status_code
        == 201
    )
    response = api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 1000, "reason": "b"})
    assert response.status_code == 422
    assert response.json()["details"]["refundable"] == 900


def test_refund_of_an_unpaid_order_is_a_conflict(api, shop, sku, buyer):
    order = place(api, buyer, shop, sku)
    response = api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"})
    assert response.status_code == 409


def test_who_may_decide_a_refund(api, shop, sku, buyer, operator):
    order = paid_order(api, buyer, shop, sku)
    refund = (
        api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"}).json()
    )
    assert api(buyer).post(f"/refunds/{refund['id']}/approve").status_code == 403
    assert api(shop.owner).post(f"/refunds/{refund['id']}/approve").status_code == 403
    _, other_staff = testing.make_supplier()
    assert api(other_staff).post(f"/refunds/{refund['id']}/approve").status_code == 404
    assert api().post(f"/refunds/{refund['id']}/approve").status_code == 401
    # the operator overrides
    assert api(operator).post(f"/refunds/{refund['id']}/approve").json()["status"] == "succeeded"
    again = api(operator).post(f"/refunds/{refund['id']}/approve")
    assert again.status_code == 409


def test_rejected_refund_changes_no_money(api, shop, sku, buyer, supplier_pair):
    _, staff = supplier_pair
    order = paid_order(api, buyer, shop, sku)
    refund = (
        api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"}).json()
    )
    rejected = api(staff).post(
        f"/refunds/{refund['id']}/reject", {"note": "no damage on the photos"}
    )
    assert rejected.json()["status"] == "rejected"
    assert api(buyer).get(f"/orders/{order['id']}").json()["refunded_amount"] == 0


def test_after_sales_window_closes_for_the_buyer_not_the_operator(
    api, shop, sku, buyer, supplier_pair, operator, settings
):
    _, staff = supplier_pair
    order = paid_order(api, buyer, shop, sku)
    api(staff).post(f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "1"})
    api(buyer).post(f"/orders/{order['id']}/confirm")
    with clock.travel(dt.timedelta(days=settings.KINSHOP_AFTER_SALES_DAYS, minutes=1)):
        late = api(buyer).post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"})
        assert late.status_code == 409
        assert late.json()["code"] == "after_sales_closed"
        arbitration = api(operator).post(
            f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "arbitration"}
        )
        assert arbitration.status_code == 201


def test_refund_idempotency(api, shop, sku, buyer):
    order = paid_order(api, buyer, shop, sku)
    client = api(buyer)
    key = {"Idempotency-Key": "refund-1"}
    first = client.post(
        f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"}, headers=key
    )
    second = client.post(
        f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"}, headers=key
    )
    assert first.json()["id"] == second.json()["id"]


def test_openapi_lists_the_order_operations(client):
    spec = json.loads(client.get("/api/v1/openapi.json").content)
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "create_order",
        "get_order",
        "list_orders",
        "pay_order",
        "sandbox_confirm_payment",
        "ship_order",
        "confirm_receipt",
        "cancel_order",
        "request_refund",
        "approve_refund",
    } <= ids
