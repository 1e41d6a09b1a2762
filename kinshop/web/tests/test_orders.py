"""The buyer's pages: cart, checkout, payment, my orders and an order's page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.orders import services
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "王小明",
    "phone": "13800138000",
    "region": "浙江省杭州市西湖区",
    "detail": "文三路 90 号",
}


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def place(buyer, shop, sku, quantity=1) -> Order:
    return services.place_order(
        buyer=buyer,
        shop=shop,
        lines=[services.LineRequest(sku_id=sku.id, quantity=quantity)],
        address=services.Address(**ADDRESS),
    )


def test_the_whole_purchase_goes_through_the_pages(buyer, shop, sku):
    browser = signed_in(buyer)

    # given a product in the cart
    response = browser.post(
        "/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 2, "action": "cart"}
    )
    assert response.status_code == 302
    cart = browser.get("/cart/")
    assert cart.status_code == 200
    assert 'data-testid="checkout"' in cart.content.decode()

    # when the buyer checks out and pays in the sandbox
    assert browser.get(f"/checkout/?shop={shop.handle}").status_code == 200
    response = browser.post(f"/checkout/?shop={shop.handle}", ADDRESS)
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.id}/pay/"
    assert (order.total, order.recipient_name) == (19800, "王小明")
    assert browser.get(f"/orders/{order.id}/pay/").status_code == 200
    response = browser.post(f"/orders/{order.id}/pay/", {"provider": "sandbox"})
    assert response["Location"].startswith("/pay/sandbox/")
    assert browser.get(response["Location"]).status_code == 200
    response = browser.post(response["Location"])

    # then the order page shows it paid, and the cart is empty
    assert response["Location"] == f"/orders/{order.id}/"
    page = browser.get(f"/orders/{order.id}/").content.decode()
    assert 'data-testid="order-status" data-status="paid"' in page
    assert 'data-testid="request-refund"' in page
    assert browser.session.get("cart") == {}


def test_buy_now_goes_straight_to_checkout(buyer, shop, sku):
    response = signed_in(buyer).post(
        "/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1, "action": "buy"}
    )

    assert response["Location"] == f"/checkout/?shop={shop.handle}"


def test_checkout_asks_an_anonymous_buyer_to_sign_in_and_come_back(shop, sku):
    browser = Client()
    browser.post("/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1})

    response = browser.get(f"/checkout/?shop={shop.handle}")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/sign-in/?next=/checkout/%3Fshop%3Dnutshop"


def test_the_cart_updates_and_removes_lines_over_htmx(shop, sku):
    browser = Client()
    browser.post("/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1})

    response = browser.post(
        "/cart/update/", {"shop": shop.handle, "sku": sku.id, "quantity": 3}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "¥297.00" in response.content.decode()

    browser.post("/cart/remove/", {"shop": shop.handle, "sku": sku.id}, HTTP_HX_REQUEST="true")
    assert browser.session["cart"] == {}


def test_a_sku_the_shop_does_not_sell_is_not_added(shop, supplier_pair):
    _, staff = supplier_pair
    other = testing.make_product(staff=staff).skus.get()
    browser = Client()

    browser.post("/cart/add/", {"shop": shop.handle, "sku": other.id, "quantity": 1})

    assert browser.session.get("cart", {}) == {}


def test_a_refused_order_is_explained_not_crashed(buyer, shop, sku):
    browser = signed_in(buyer)
    browser.post("/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1})

    response = browser.post(
        f"/checkout/?shop={shop.handle}", {**ADDRESS, "phone": "not a phone"}, follow=True
    )

    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert "请输入有效的手机号" in response.content.decode()


def test_order_pages_are_the_buyers_alone(buyer, shop, sku):
    order = place(buyer, shop, sku)
    stranger = signed_in(testing.make_user("stranger"))

    assert signed_in(buyer).get(f"/orders/{order.id}/").status_code == 200
    assert signed_in(buyer).get(f"/orders/{order.id}/pay/").status_code == 200
    assert stranger.get(f"/orders/{order.id}/").status_code == 404
    assert stranger.get(f"/orders/{order.id}/pay/").status_code == 404
    assert stranger.post(f"/orders/{order.id}/cancel/").status_code == 404
    assert Client().get(f"/orders/{order.id}/")["Location"].startswith("/accounts/sign-in/")
    assert Client().get("/orders/")["Location"].startswith("/accounts/sign-in/")


def test_the_buyer_cancels_confirms_and_asks_for_a_refund(buyer, shop, sku, operator):
    browser = signed_in(buyer)
    unpaid = place(buyer, shop, sku)
    browser.post(f"/orders/{unpaid.id}/cancel/")
    unpaid.refresh_from_db()
    assert unpaid.status == "cancelled"

    order = place(buyer, shop, sku)
    Order.objects.filter(pk=order.pk).update(status="shipped")
    page = browser.get(f"/orders/{order.id}/").content.decode()
    assert 'data-testid="confirm-receipt"' in page
    browser.post(f"/orders/{order.id}/confirm/")
    order.refresh_from_db()
    assert order.status == "completed"

    browser.post(f"/orders/{order.id}/refund/", {"amount": "12.50", "reason": "裂开了"})
    refund = order.refunds.get()
    assert (refund.amount, refund.reason, refund.status) == (1250, "裂开了", "requested")


def test_a_refund_above_what_was_paid_is_refused_in_words(buyer, shop, sku):
    order = place(buyer, shop, sku)
    Order.objects.filter(pk=order.pk).update(status="shipped")
    browser = signed_in(buyer)

    response = browser.post(
        f"/orders/{order.id}/refund/", {"amount": "1000", "reason": "x"}, follow=True
    )

    assert order.refunds.count() == 0
    assert "超过了还能退款的金额" in response.content.decode()


def test_offline_payment_leads_to_instructions(buyer, shop, sku):
    order = place(buyer, shop, sku)
    browser = signed_in(buyer)

    response = browser.post(f"/orders/{order.id}/pay/", {"provider": "offline"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/orders/{order.id}/"
    assert order.payments.get().provider == "offline"
    assert "线下" in response.content.decode()


def test_forms_refuse_a_post_without_the_csrf_token(buyer, shop, sku):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(buyer)

    assert browser.post("/cart/add/", {"shop": shop.handle, "sku": sku.id}).status_code == 403
    assert browser.post(f"/checkout/?shop={shop.handle}", ADDRESS).status_code == 403
    assert Order.objects.count() == 0


def test_pages_speak_chinese_by_default_and_english_on_request(buyer):
    assert "购物车" in Client().get("/cart/").content.decode()
    english = Client()
    english.cookies["django_language"] = "en"
    assert "Your cart is empty." in english.get("/cart/").content.decode()


def _orders_page_queries(browser) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get("/orders/").status_code == 200
    return len(queries)


def test_my_orders_makes_as_many_queries_with_50_orders_as_with_5(settings, buyer, shop, sku):
    settings.KINSHOP_MAX_UNPAID_UNITS = 50  # fifty unpaid orders of one SKU
    browser = signed_in(buyer)
    for _ in range(5):
        place(buyer, shop, sku)
    with_5 = _orders_page_queries(browser)
    for _ in range(45):
        place(buyer, shop, sku)

    assert _orders_page_queries(browser) == with_5


def test_the_order_page_does_not_grow_with_its_history(buyer, shop, sku):
    browser = signed_in(buyer)
    order = place(buyer, shop, sku)
    with CaptureQueriesContext(connection) as few:
        browser.get(f"/orders/{order.id}/")
    services.cancel_order(user=buyer, order_id=order.id)
    with CaptureQueriesContext(connection) as more:
        browser.get(f"/orders/{order.id}/")

    assert len(more) == len(few)
