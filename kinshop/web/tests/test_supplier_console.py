"""The supplier console (/console/supplier/) through the Django test client."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.catalog.models import SKU, Product, Supplier
from kinshop.ledger import queries as ledger_queries
from kinshop.orders import services as orders
from kinshop.orders.models import Fulfilment, Order, Refund
from kinshop.orders.rules import LineRequest
from kinshop.payments import services as payments
from kinshop.payments.models import Payment
from kinshop.web.tests.helpers import ADDRESS, place_paid_order

pytestmark = pytest.mark.django_db

PAGES = [
    "/console/supplier/",
    "/console/supplier/products/new/",
    "/console/supplier/orders/",
    "/console/supplier/refunds/",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_verified_staff(client, supplier_pair, url):
    client.force_login(supplier_pair[1])
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", PAGES)
def test_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/sign-in/")


@pytest.mark.parametrize("url", PAGES[1:])
def test_non_staff_are_sent_to_the_application(client, url):
    client.force_login(testing.make_user())
    response = client.get(url)
    assert (response.status_code, response.url) == (302, "/console/supplier/")


def test_a_non_staff_user_applies_as_a_supplier(client):
    user = testing.make_user()
    client.force_login(user)
    assert client.get("/console/supplier/").templates[0].name == "web/supplier_console/apply.html"
    response = client.post(
        "/console/supplier/",
        {"name": "临安山核桃合作社", "license_no": "91330185MA2", "description": ""},
    )
    assert response.status_code == 302
    supplier = Supplier.objects.get(memberships__user=user)
    assert supplier.status == "pending"
    page = client.get("/console/supplier/")
    assert page.templates[0].name == "web/supplier_console/waiting.html"
    assert client.get("/console/supplier/orders/").status_code == 302


def test_products_list_only_my_suppliers_products(client, supplier_pair, product):
    _, other_staff = testing.make_supplier()
    theirs = testing.make_product(staff=other_staff, title="Their tea")
    client.force_login(supplier_pair[1])
    listed = [item.id for item in client.get("/console/supplier/").context["page_obj"]]
    assert listed == [product.id]
    assert theirs.id not in listed


def test_create_a_product_with_two_skus(client, supplier_pair):
    client.force_login(supplier_pair[1])
    response = client.post(
        "/console/supplier/products/new/",
        {
            "title": "龙井茶 250 g",
            "description": "明前",
            "commission_rate": "12.5",
            "sku1_code": "LJ-250",
            "sku1_name": "250 g",
            "sku1_supply": "60",
            "sku1_min": "80",
            "sku1_max": "120",
            "sku1_suggested": "99",
            "sku1_stock": "10",
            "sku2_code": "LJ-500",
            "sku2_name": "500 g",
            "sku2_supply": "110",
            "sku2_min": "150",
            "sku2_max": "220",
            "sku2_suggested": "188.80",
            "sku2_stock": "",
        },
    )
    assert response.status_code == 302
    product = Product.objects.get(title="龙井茶 250 g")
    assert product.commission_rate_bp == 1250
    assert list(
        product.skus.values_list(
            "code", "supply_price", "retail_min", "retail_max", "suggested_retail_price", "stock"
        )
    ) == [("LJ-250", 6000, 8000, 12000, 9900, 10), ("LJ-500", 11000, 15000, 22000, 18880, 0)]


def test_a_product_whose_band_is_below_cost_is_refused(client, supplier_pair):
    client.force_login(supplier_pair[1])
    response = client.post(
        "/console/supplier/products/new/",
        {
            "title": "Tea",
            "commission_rate": "30",
            "sku1_code": "T1",
            "sku1_supply": "90",
            "sku1_min": "100",
            "sku1_max": "120",
            "sku1_suggested": "100",
        },
    )
    assert response.status_code == 422
    assert response.context["form"].non_field_errors()
    assert not Product.objects.filter(title="Tea").exists()


def test_adjust_stock_inline_with_htmx(client, supplier_pair, product):
    sku = product.skus.first()
    client.force_login(supplier_pair[1])
    response = client.post(
        f"/console/supplier/skus/{sku.id}/stock/", {"delta": "-30"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert f'data-testid="stock-{sku.id}">70<' in response.content.decode()
    sku.refresh_from_db()
    assert sku.stock == 70


def test_removing_more_stock_than_there_is_shows_an_inline_error(client, supplier_pair, product):
    sku = product.skus.first()
    client.force_login(supplier_pair[1])
    response = client.post(
        f"/console/supplier/skus/{sku.id}/stock/", {"delta": "-500"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "库存不足" in response.content.decode()
    sku.refresh_from_db()
    assert sku.stock == 100


def test_another_suppliers_staff_cannot_adjust_my_stock(client, product):
    _, other_staff = testing.make_supplier()
    sku = product.skus.first()
    client.force_login(other_staff)
    response = client.post(f"/console/supplier/skus/{sku.id}/stock/", {"delta": "5"})
    assert response.status_code == 404
    assert SKU.objects.get(pk=sku.id).stock == 100


def test_ship_an_order(client, supplier_pair, shop, product):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    client.force_login(supplier_pair[1])
    page = client.get("/console/supplier/orders/")
    assert f'data-testid="ship-{order.id}"' in page.content.decode()
    response = client.post(
        f"/console/supplier/orders/{order.id}/ship/", {"carrier": "顺丰", "tracking_no": "SF123"}
    )
    assert response.status_code == 302
    part = Fulfilment.objects.get(order=order)
    assert (part.status, part.carrier, part.tracking_no) == ("shipped", "顺丰", "SF123")
    assert Order.objects.get(pk=order.pk).status == "shipped"


def test_orders_to_ship_come_first(client, supplier_pair, shop, product):
    sku = product.skus.first()
    first = place_paid_order(shop=shop, sku=sku)
    second = place_paid_order(shop=shop, sku=sku)
    with transaction.atomic():
        orders.ship(user=supplier_pair[1], order_id=second.id, carrier="SF", tracking_no="1")
    client.force_login(supplier_pair[1])
    rows = client.get("/console/supplier/orders/").context["rows"]
    assert [row["order"].id for row in rows] == [first.id, second.id]
    only = client.get("/console/supplier/orders/?status=to_ship").context["rows"]
    assert [row["order"].id for row in only] == [first.id]


def test_another_suppliers_staff_does_not_see_or_ship_my_orders(client, shop, product):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    _, other_staff = testing.make_supplier()
    client.force_login(other_staff)
    assert client.get("/console/supplier/orders/").context["rows"] == []
    client.post(f"/console/supplier/orders/{order.id}/ship/", {"carrier": "SF", "tracking_no": "1"})
    assert Fulfilment.objects.get(order=order).status == "to_ship"


def test_confirm_an_offline_payment(client, supplier_pair, shop, product):
    buyer = testing.make_user()
    with transaction.atomic():
        order = orders.place_order(
            buyer=buyer,
            shop=shop,
            lines=[LineRequest(sku_id=product.skus.first().id, quantity=1)],
            address=ADDRESS,
        )
        payment = payments.start_payment(user=buyer, order_id=order.id, provider="offline")
    client.force_login(supplier_pair[1])
    page = client.get("/console/supplier/orders/")
    assert f'data-testid="receive-offline-{payment.id}"' in page.content.decode()
    response = client.post(f"/console/supplier/payments/{payment.id}/receive/")
    assert response.status_code == 302
    assert Payment.objects.get(pk=payment.pk).status == "captured"
    assert Order.objects.get(pk=order.pk).status == "paid"


def _refund_requested(shop, product, *, amount=9900):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    with transaction.atomic():
        return orders.request_refund(
            user=order.buyer, order_id=order.id, amount=amount, reason="坏了"
        )


def test_approve_a_refund_with_restock(client, supplier_pair, shop, product):
    refund = _refund_requested(shop, product)
    client.force_login(supplier_pair[1])
    page = client.get("/console/supplier/refunds/")
    html = page.content.decode()
    assert f'data-testid="approve-refund-{refund.id}"' in html
    assert f'data-testid="reject-refund-{refund.id}"' in html
    response = client.post(f"/console/supplier/refunds/{refund.id}/approve/", {"restock": "on"})
    assert response.status_code == 302
    refund.refresh_from_db()
    assert (refund.status, refund.restock) == ("succeeded", True)
    assert Order.objects.get(pk=refund.order_id).status == "refunded"
    assert SKU.objects.get(pk=product.skus.first().pk).stock == 100
    assert ledger_queries.wallet(supplier_pair[1], "supplier")["pending"] == 0


def test_reject_a_refund_with_a_note(client, supplier_pair, shop, product):
    refund = _refund_requested(shop, product)
    client.force_login(supplier_pair[1])
    client.post(f"/console/supplier/refunds/{refund.id}/reject/", {"note": "已签收完好"})
    refund.refresh_from_db()
    assert (refund.status, refund.decision_note) == ("rejected", "已签收完好")


def test_another_suppliers_staff_cannot_decide_my_refunds(client, shop, product):
    refund = _refund_requested(shop, product)
    _, other_staff = testing.make_supplier()
    client.force_login(other_staff)
    assert list(client.get("/console/supplier/refunds/").context["page_obj"]) == []
    client.post(f"/console/supplier/refunds/{refund.id}/approve/")
    assert Refund.objects.get(pk=refund.pk).status == "requested"


def _orders_page_queries(client, user) -> int:
    client.force_login(user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/console/supplier/orders/").status_code == 200
    return len(captured)


def test_orders_page_queries_do_not_grow_with_orders(client, supplier_pair, shop, product):
    sku = product.skus.first()
    for _ in range(5):
        place_paid_order(shop=shop, sku=sku)
    few = _orders_page_queries(client, supplier_pair[1])
    for _ in range(45):
        place_paid_order(shop=shop, sku=sku)
    assert _orders_page_queries(client, supplier_pair[1]) == few
