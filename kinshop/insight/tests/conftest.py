"""A known history across two periods, built through the real API and pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kinshop import testing
from kinshop.core import clock
from kinshop.ops.jobs import run_due

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
)
ADDRESS = {
    "name": "王小明",
    "phone": "13800138000",
    "region": "浙江省杭州市",
    "detail": "文三路 90 号",
}


def place(api, buyer, shop, sku, quantity=1, **extra):
    payload = {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": quantity}],
        "address": ADDRESS,
        **extra,
    }
    response = api(buyer).post("/orders", payload)
    assert response.status_code == 201, response.json()
    return response.json()


def pay(api, buyer, order_id):
    client = api(buyer)
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    assert client.post(f"/payments/{payment['id']}/sandbox-confirm").status_code == 200


def browser(user=None, agent=BROWSER) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    if user is not None:
        client.force_login(user)
    return client


def view(client, shop, product):
    assert client.get(f"/shop/{shop.handle}/p/{product.id}/").status_code == 200


@pytest.fixture
def history(api, shop, product, supplier_pair, operator):
    """Ten days ago (the previous period): A views and buys one. Now: A views
    twice, adds to cart, buys twice (one refunded 50.00); C scans S's QR code,
    views, then buys two with S's share code (a click on the link, which the
    last-click attribution credits); a device views once; a bot views; B places
    an order and never pays; the keeper buys from their own shop."""
    _, staff = supplier_pair
    sku = product.skus.get()
    a, b, c = (testing.make_user(name) for name in ("buyer_a", "buyer_b", "buyer_c"))
    sharer = testing.make_user("sharer_s")
    keeper = shop.owner
    with clock.travel(dt.timedelta(days=-10)):
        view(browser(a), shop, product)
        pay(api, a, place(api, a, shop, sku)["id"])
        run_due(clock.now())
    view(browser(a), shop, product)
    view(browser(a), shop, product)
    cart = browser(a).post("/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1})
    assert cart.status_code == 302
    view(browser(), shop, product)  # an anonymous device
    view(browser(agent="Mozilla/5.0 (compatible; Googlebot/2.1)"), shop, product)
    link = api(sharer).post("/share-links", {"shop": shop.handle}).json()
    assert api(c).post(f"/share-links/{link['code']}/clicks", {"channel": "qr"}).status_code == 201
    view(browser(c), shop, product)
    pay(api, c, place(api, c, shop, sku, 2, share_code=link["code"])["id"])
    pay(api, a, place(api, a, shop, sku)["id"])
    refunded = place(api, a, shop, sku)
    pay(api, a, refunded["id"])
    refund = api(a).post(f"/orders/{refunded['id']}/refunds", {"amount": 5000, "reason": "dented"})
    assert api(staff).post(f"/refunds/{refund.json()['id']}/approve").status_code == 200
    place(api, b, shop, sku)
    pay(api, keeper, place(api, keeper, shop, sku)["id"])
    run_due(clock.now())
    return {"sharer": sharer, "link": link, "keeper": keeper, "a": a, "operator": operator}
