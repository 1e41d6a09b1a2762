"""A group buy in real Chromium on a phone: a buyer sees the group price and
the seats on the product page, starts a group and gets the group's link; a
friend opens that link on their own phone and joins the same group. The
countdown runs from the static script (no inline script: CSP)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.browser import helpers

helpers.require_chromium()

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]

SHOP = "hangzhou-mama"
KEEPER = "mama-lin"
PRODUCT_TITLE = "香榧 Torreya nuts"
LEADER, FRIEND = "xiaomei", "laozhang"
ADDRESS = {"name": "小美", "region": "浙江省杭州市西湖区", "detail": "文三路 1 号"}


def _group_buy(server) -> tuple[dict, dict]:
    """The keeper offers the torreya tin at a group price, through the API."""
    products = server.api("GET", "/products", params={"q": "Torreya"}).json()
    items = products["items"] if isinstance(products, dict) else products
    product = next(p for p in items if p["title"] == PRODUCT_TITLE)
    sku = next(s for s in product["skus"] if s["code"] == "LA-TY-250")
    response = server.api(
        "POST",
        f"/shops/{SHOP}/group-buys",
        as_=KEEPER,
        json={
            "sku_id": sku["id"],
            "group_price": 11800,
            "group_size": 3,
            "hours": 24,
            "ends_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),
        },
    )
    assert response.status_code == 201, response.text
    return product, response.json()


def _fill_and_submit(page, phone: str, testid: str) -> None:
    for name, value in {**ADDRESS, "phone": phone}.items():
        page.locator(f"form [name={name}]").first.fill(value)
    with page.expect_navigation():
        page.click(f"[data-testid={testid}]")


def test_a_buyer_starts_a_group_and_a_friend_joins_it_from_the_shared_link(server, new_context):
    base = server.base_url
    product, group_buy = _group_buy(server)

    leader = new_context("phone").new_page()
    helpers.sign_in(leader, server, LEADER, f"/shop/{SHOP}/p/{product['id']}/")
    response = leader.goto(f"{base}/shop/{SHOP}/p/{product['id']}/")
    helpers.assert_clean(leader, response, what="product page")
    box = leader.locator(f"[data-testid=group-buy-{group_buy['id']}]")
    assert "¥118.00" in box.inner_text()
    assert helpers.horizontal_overflow(leader) <= 1, helpers.widest_elements(leader)

    with leader.expect_navigation():
        box.locator("[data-testid=start-a-group]").click()
    _fill_and_submit(leader, "13812340011", "start-group")
    assert re.search(r"/orders/\d+/", leader.url), helpers.body_text(leader)

    # the leader finds the group again from the product page, and its link to share
    leader.goto(f"{base}/shop/{SHOP}/p/{product['id']}/")
    assert "还剩 2 个名额" in box.inner_text()
    with leader.expect_navigation():
        box.locator("[data-testid=join-this-group]").first.click()
    share_url = leader.locator("[data-testid=group-share-link]").inner_text().strip()
    assert re.fullmatch(rf"{re.escape(base)}/groups/\d+/", share_url), share_url
    countdown = leader.locator("[data-testid=countdown]").first
    leader.wait_for_function(
        "el => /^\\d{2}:\\d{2}:\\d{2}$|^\\d+d /.test(el.textContent)",
        arg=countdown.element_handle(),
    )  # the static script turned the time into a running countdown
    assert helpers.horizontal_overflow(leader) <= 1, helpers.widest_elements(leader)
    helpers.keep_screenshot(leader, "group-page-360")

    # the friend opens the shared link on their phone and joins the same group
    friend = new_context("phone").new_page()
    friend.set_viewport_size({"width": 390, "height": 844})
    helpers.sign_in(friend, server, FRIEND, share_url.removeprefix(base))
    response = friend.goto(share_url)
    helpers.assert_clean(friend, response, what="shared group page")
    assert "¥118.00" in friend.locator("[data-testid=group-card]").inner_text()
    assert "还剩 2 个名额" in friend.locator("[data-testid=seats-left]").inner_text()
    assert helpers.horizontal_overflow(friend) <= 1, helpers.widest_elements(friend)
    helpers.keep_screenshot(friend, "group-join-390")
    _fill_and_submit(friend, "13812340012", "join-group")
    assert re.search(r"/orders/\d+/", friend.url), helpers.body_text(friend)

    friend.goto(share_url)
    assert "还剩 1 个名额" in friend.locator("[data-testid=seats-left]").inner_text()


def test_a_buyer_pays_a_presales_deposit_from_the_product_page(server, new_context):
    """A pre-sale on a phone: the product page shows the deposit and the balance
    window; ordering takes the buyer to pay the deposit alone."""
    base = server.base_url
    products = server.api("GET", "/products", params={"q": "Torreya"}).json()
    items = products["items"] if isinstance(products, dict) else products
    product = next(p for p in items if p["title"] == PRODUCT_TITLE)
    sku = next(s for s in product["skus"] if s["code"] == "LA-TY-250")
    now = dt.datetime.now(dt.UTC)
    created = server.api(
        "POST",
        f"/shops/{SHOP}/presales",
        as_=KEEPER,
        json={
            "sku_id": sku["id"],
            "price": 12800,
            "deposit": 2000,
            "balance_starts_at": (now + dt.timedelta(days=1)).isoformat(),
            "balance_ends_at": (now + dt.timedelta(days=2)).isoformat(),
            "ships_on": (now + dt.timedelta(days=3)).date().isoformat(),
        },
    )
    assert created.status_code == 201, created.text
    presale_id = created.json()["id"]

    page = new_context("phone").new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    helpers.sign_in(page, server, FRIEND, f"/shop/{SHOP}/p/{product['id']}/")
    response = page.goto(f"{base}/shop/{SHOP}/p/{product['id']}/")
    helpers.assert_clean(page, response, what="product page")
    box = page.locator(f"[data-testid=presale-{presale_id}]")
    assert "¥128.00" in box.inner_text() and "¥20.00" in box.inner_text()
    with page.expect_navigation() as navigation:
        box.locator("[data-testid=go-presale]").click()
    helpers.assert_clean(page, navigation.value, what="pre-sale page")
    assert "¥20.00" in page.locator("[data-testid=presale-deposit]").inner_text()
    assert helpers.horizontal_overflow(page) <= 1, helpers.widest_elements(page)
    helpers.keep_screenshot(page, "presale-390")

    _fill_and_submit(page, "13812340013", "buy-presale")
    assert re.search(r"/orders/\d+/pay/", page.url), helpers.body_text(page)
    assert "¥20.00" in page.locator("[data-testid=amount-due]").inner_text()
