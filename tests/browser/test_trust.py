"""Trust in a real Chromium: a buyer reviews after confirming receipt, the
supplier replies from its console, and the operator clears a fraud flag in the
admin in one step."""

from __future__ import annotations

import secrets

import pytest

from tests.browser import helpers

helpers.require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]

BUYER = "laozhang"
SHARER = "xiaomei"
OPERATOR = "operator"
SUPPLIER_STAFF = "qinglan"
SHOP = "xiaolu-skin"
PRODUCT_TITLE = "玻尿酸保湿精华"


def _product(server) -> dict:
    products = server.api("GET", "/products", params={"q": PRODUCT_TITLE}).json()
    return next(p for p in products["items"] if p["title"].startswith(PRODUCT_TITLE))


def _paid_order(server, *, buyer: str, sku_id: int, detail: str, phone: str, share_code=None):
    body = {
        "shop": SHOP,
        "lines": [{"sku_id": sku_id, "quantity": 1}],
        "address": {"name": "测试", "phone": phone, "region": "浙江省杭州市", "detail": detail},
    }
    if share_code:
        body["share_code"] = share_code
    order = server.api("POST", "/orders", as_=buyer, json=body)
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    payment = server.api(
        "POST", f"/orders/{order_id}/payments", as_=buyer, json={"provider": "sandbox"}
    )
    assert payment.status_code in (200, 201), payment.text
    confirmed = server.api(
        "POST", f"/payments/{payment.json()['id']}/sandbox-confirm", as_=buyer, json={}
    )
    assert confirmed.status_code == 200, confirmed.text
    return order_id


def test_buyer_reviews_after_receipt_and_the_supplier_replies(server, new_context):
    product = _product(server)
    sku_id = product["skus"][0]["id"]
    order_id = _paid_order(
        server, buyer=BUYER, sku_id=sku_id, detail="文一路 8 号", phone="13812340012"
    )
    shipped = server.api(
        "POST",
        f"/orders/{order_id}/shipments",
        as_=SUPPLIER_STAFF,
        json={"carrier": "SF", "tracking_no": "SF100"},
    )
    assert shipped.status_code == 201, shipped.text
    text = f"Soft on the skin {secrets.token_hex(3)}"

    # the buyer confirms receipt on the order page, then reviews
    buyer = new_context("phone").new_page()
    helpers.sign_in(buyer, server, BUYER, next_url=f"/orders/{order_id}/")
    buyer.goto(f"{server.base_url}/orders/{order_id}/")
    with buyer.expect_navigation():
        buyer.click("[data-testid=confirm-receipt]")
    with buyer.expect_navigation():
        buyer.click("[data-testid=write-review]")
    buyer.check(f"[data-testid=rating-{sku_id}-4]")
    buyer.fill(f"[data-testid=review-text-{sku_id}]", text)
    with buyer.expect_navigation():
        buyer.click(f"[data-testid=submit-review-{sku_id}]")
    assert buyer.locator(f"[data-testid=reviewed-{sku_id}]").is_visible()
    assert helpers.horizontal_overflow(buyer) == 0, helpers.widest_elements(buyer)

    reviews = server.api("GET", f"/products/{product['id']}/reviews").json()
    review = next(item for item in reviews["items"] if item["text"] == text)
    assert (review["rating"], review["verified_purchase"]) == (4, True)
    page = new_context("phone").new_page()
    response = page.goto(f"{server.base_url}/shop/{SHOP}/p/{product['id']}/")
    helpers.assert_clean(page, response, what="product page")
    assert text in helpers.body_text(page) or text in page.inner_text("[data-testid=reviews]")

    # the supplier replies from its console
    staff = new_context("phone").new_page()
    helpers.sign_in(staff, server, SUPPLIER_STAFF, next_url="/console/reviews/")
    staff.goto(f"{server.base_url}/console/reviews/")
    staff.fill(f"[data-testid=reply-text-{review['id']}]", "Thank you for trying it!")
    with staff.expect_navigation():
        staff.click(f"[data-testid=reply-{review['id']}]")
    replies = server.api("GET", f"/products/{product['id']}/reviews").json()
    replied = next(item for item in replies["items"] if item["id"] == review["id"])
    assert [(r["role"], r["text"]) for r in replied["replies"]] == [
        ("supplier", "Thank you for trying it!")
    ]


def test_the_operator_releases_a_flag_in_one_step(server, new_context):
    product = _product(server)
    sku_id = product["skus"][0]["id"]
    home = f"文二路 {secrets.randbelow(10_000)} 号"
    # the sharer ships their own order home; a buyer then buys through their
    # link to the same address: a family, or the sharer buying for themselves
    _paid_order(server, buyer=SHARER, sku_id=sku_id, detail=home, phone="13812340011")
    link = server.api(
        "POST", "/share-links", as_=SHARER, json={"shop": SHOP, "product_id": product["id"]}
    ).json()
    order_id = _paid_order(
        server,
        buyer=BUYER,
        sku_id=sku_id,
        detail=home,
        phone="13812340012",
        share_code=link["code"],
    )
    server.run_jobs()
    flags = server.api("GET", "/fraud/flags", as_=OPERATOR, params={"status": "open"}).json()
    flag = next(item for item in flags["items"] if order_id in item["order_ids"])
    assert flag["kind"] == "linked_identity"

    operator = new_context("desktop").new_page()
    helpers.sign_in(operator, server, OPERATOR, next_url="/admin/trust/fraudflag/")
    response = operator.goto(f"{server.base_url}/admin/trust/fraudflag/{flag['id']}/change/")
    helpers.assert_clean(operator, response, what="flag evidence")
    assert "linked_identity" in operator.content()
    held = server.api("GET", "/wallet", as_=SHARER).json()
    assert held["held"] > 0
    operator.goto(f"{server.base_url}/admin/trust/fraudflag/?status__exact=open")
    operator.check(f"input[name=_selected_action][value='{flag['id']}']")
    operator.select_option("select[name=action]", "release")
    with operator.expect_navigation():
        operator.click("button[name=index]")

    after = server.api("GET", "/fraud/flags", as_=OPERATOR, params={"status": "released"}).json()
    assert flag["id"] in [item["id"] for item in after["items"]]
    # released: the held commission went back to the sharer's pending, fen for fen
    released = server.api("GET", "/wallet", as_=SHARER).json()
    moved = held["held"] - released["held"]
    assert moved > 0 and released["pending"] - held["pending"] == moved
