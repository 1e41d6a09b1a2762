"""The whole journey in a real Chromium against a real server, as new people
would live it: a friend's share link on a phone, sign-up, buy, pay; the supplier
ships from its console; the buyer confirms; the jobs settle; the sharer sees the
commission, verifies and withdraws; the operator approves in the admin."""

from __future__ import annotations

import re
import secrets

import pytest

from tests.browser import helpers

helpers.require_chromium()

# the server fixture is per session, so per worker: keep all browser tests on one
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("servers")]

SHARER = "amy-li"  # a demo sharer whose seeded money is all settled: no pending
SUPPLIER_STAFF = "qinglan"
SHOP = "xiaolu-skin"
PRODUCT_TITLE = "玻尿酸保湿精华"  # two SKUs, so the buyer has to choose
WITHDRAW_YUAN = 20


@pytest.fixture(scope="module")
def shared(server):
    """The sharer's link to the serum in Xiaolu's shop, made through the API."""
    products = server.api("GET", "/products", params={"q": PRODUCT_TITLE}).json()
    items = products["items"] if isinstance(products, dict) else products
    product = next(p for p in items if p["title"].startswith(PRODUCT_TITLE))
    response = server.api(
        "POST", "/share-links", as_=SHARER, json={"shop": SHOP, "product_id": product["id"]}
    )
    assert response.status_code == 201, response.text
    link = response.json()
    assert link["url"].startswith(server.base_url), link["url"]
    return {"product": product, "code": link["code"], "url": link["url"]}


def _fill_form(page, values: dict[str, str], scope: str = "form") -> None:
    for name, value in values.items():
        page.locator(f"{scope} [name={name}]").first.fill(value)


def _choose_sku(page, sku_id: int) -> None:
    radio = page.locator(f"[data-testid=sku-{sku_id}]")
    radio.check(force=True)
    assert radio.is_checked()


def test_share_buy_ship_confirm_settle_withdraw(server, shared, new_context):
    base = server.base_url
    product, sku = shared["product"], shared["product"]["skus"][0]
    username = f"newbuyer{secrets.token_hex(3)}"
    password = f"Kinshop-{secrets.token_hex(6)}"

    # The sharer's wallet before: money from earlier orders, nothing pending.
    sharer = new_context("phone").new_page()
    helpers.sign_in(sharer, server, SHARER, "/me/")
    response = sharer.goto(f"{base}/me/")
    helpers.assert_clean(sharer, response, what="sharer centre")
    available_before = helpers.data_fen(sharer, "wallet-available")
    pending_before = helpers.data_fen(sharer, "wallet-pending")
    assert pending_before == 0

    # A stranger opens the friend's link on a phone and lands on the product.
    buyer = new_context("phone").new_page()
    response = buyer.goto(shared["url"])
    helpers.assert_clean(buyer, response, what="share landing")
    assert re.search(rf"/shop/{SHOP}/p/{product['id']}/", buyer.url), buyer.url
    assert buyer.locator("[data-testid=buy-now]").is_visible()
    assert helpers.horizontal_overflow(buyer) <= 1, helpers.widest_elements(buyer)

    # Buy now asks them to sign in; they sign up instead, with a new name.
    _choose_sku(buyer, sku["id"])
    with buyer.expect_navigation():
        buyer.click("[data-testid=buy-now]")
    if "/accounts/sign-in/" in buyer.url:
        with buyer.expect_navigation():
            buyer.click("[data-testid=go-sign-up]")
    if "/accounts/sign-up/" not in buyer.url:
        buyer.goto(f"{base}/accounts/sign-up/?next=/shop/{SHOP}/p/{product['id']}/")
    _fill_form(buyer, {"username": username, "password": password, "phone": "13955550123"})
    with buyer.expect_navigation():
        buyer.click("[data-testid=sign-up]")
    assert "/accounts/sign-up/" not in buyer.url, helpers.body_text(buyer)

    # Back on the product (or straight at checkout): choose the SKU and buy now.
    if "/checkout/" not in buyer.url:
        if f"/p/{product['id']}/" not in buyer.url:
            buyer.goto(f"{base}/shop/{SHOP}/p/{product['id']}/")
        _choose_sku(buyer, sku["id"])
        with buyer.expect_navigation():
            buyer.click("[data-testid=buy-now]")
    if "/checkout/" not in buyer.url:  # buy-now may go through the cart
        with buyer.expect_navigation():
            buyer.click("[data-testid=checkout]")
    assert "/checkout/" in buyer.url, buyer.url
    assert helpers.horizontal_overflow(buyer) <= 1, helpers.widest_elements(buyer)
    _fill_form(
        buyer,
        {
            "name": "赵新",
            "phone": "13955550123",
            "region": "浙江省 杭州市 上城区",
            "detail": "解放路 18 号 3 单元 401",
        },
        scope="form.checkout",
    )
    with buyer.expect_navigation():
        buyer.click("[data-testid=place-order]")
    match = re.search(r"/orders/(\d+)/", buyer.url)
    assert match, f"placing the order led to {buyer.url}: {helpers.body_text(buyer)}"
    order_id = int(match.group(1))

    # Pay through the sandbox.
    if "/pay/" not in buyer.url:
        buyer.goto(f"{base}/orders/{order_id}/pay/")
    with buyer.expect_navigation():
        buyer.click("[data-testid=pay-sandbox]")
    with buyer.expect_navigation():
        buyer.click("[data-testid=sandbox-pay]")
    buyer.goto(f"{base}/orders/{order_id}/")
    assert buyer.get_attribute("[data-testid=order-status]", "data-status") == "paid"

    # The order as the database has it: the sharer is on the line, with its rate.
    server.token(username, password)
    order = server.api("GET", f"/orders/{order_id}", as_=username).json()
    (line,) = order["lines"]
    assert line["sku_id"] == sku["id"]
    commission = line["line_total"] * product["commission_rate_bp"] // 10_000
    assert commission > 0
    sharer.reload()
    assert helpers.data_fen(sharer, "wallet-pending") == commission

    # The supplier ships from its console, on a desktop.
    supplier = new_context("desktop").new_page()
    helpers.sign_in(supplier, server, SUPPLIER_STAFF, "/console/supplier/orders/")
    response = supplier.goto(f"{base}/console/supplier/orders/")
    helpers.assert_clean(supplier, response, what="supplier orders")
    ship = supplier.locator(f"[data-testid=ship-{order_id}]")
    form = ship.locator("xpath=ancestor::form[1]")
    form.locator("[name=carrier]").fill("顺丰速运")
    form.locator("[name=tracking_no]").fill("SF1234567890")
    with supplier.expect_navigation():
        ship.click()
    assert not supplier.locator(f"[data-testid=ship-{order_id}]").count()

    # The buyer confirms receipt.
    buyer.goto(f"{base}/orders/{order_id}/")
    assert buyer.get_attribute("[data-testid=order-status]", "data-status") == "shipped"
    buyer.on("dialog", lambda dialog: dialog.accept())
    with buyer.expect_navigation():
        buyer.click("[data-testid=confirm-receipt]")
    buyer.goto(f"{base}/orders/{order_id}/")
    assert buyer.locator("[data-testid=order-status]").get_attribute("data-status") == "completed"

    # The jobs settle it (zero-day after-sales window on this server).
    counts = server.run_jobs()
    assert counts.get("settle", 0) >= 1, counts

    # The sharer sees exactly the commission of that line become available.
    sharer.goto(f"{base}/me/")
    assert helpers.data_fen(sharer, "wallet-available") == available_before + commission
    assert helpers.data_fen(sharer, "wallet-pending") == 0
    assert helpers.data_fen(sharer, "wallet-debt") == 0

    # Verify identity if needed, then withdraw.
    response = sharer.goto(f"{base}/me/identity/")
    helpers.assert_clean(sharer, response, what="identity")
    if sharer.locator("[data-testid=verify-identity]").count():
        _fill_form(sharer, {"real_name": "李艾米", "id_number": "320106199505203823"})
        with sharer.expect_navigation():
            sharer.click("[data-testid=verify-identity]")
        sharer.goto(f"{base}/me/identity/")
    assert sharer.locator("[data-testid=masked-id]").count(), helpers.body_text(sharer)
    response = sharer.goto(f"{base}/me/withdraw/")
    helpers.assert_clean(sharer, response, what="withdraw")
    _fill_form(sharer, {"amount": str(WITHDRAW_YUAN)})
    with sharer.expect_navigation():
        sharer.click("[data-testid=request-withdrawal]")
    withdrawals = server.api("GET", "/withdrawals", as_=SHARER).json()
    rows = withdrawals["items"] if isinstance(withdrawals, dict) else withdrawals
    (withdrawal,) = [row for row in rows if row["status"] == "requested"]
    assert withdrawal["amount"] == WITHDRAW_YUAN * 100
    sharer.goto(f"{base}/me/")
    assert (
        helpers.data_fen(sharer, "wallet-available")
        == available_before + commission - WITHDRAW_YUAN * 100
    )

    # The operator approves it in the admin: select the row, run the action.
    operator = new_context("desktop").new_page()
    helpers.sign_in(operator, server, "operator", "/admin/ledger/withdrawal/")
    response = operator.goto(f"{base}/admin/ledger/withdrawal/")
    helpers.assert_clean(operator, response, what="admin withdrawals")
    operator.check(f"input[name=_selected_action][value='{withdrawal['id']}']")
    operator.select_option("select[name=action]", "approve")
    with operator.expect_navigation():
        operator.click("button[name=index]")
    helpers.assert_clean(operator, operator.goto(operator.url), what="admin after approve")

    # The sharer sees it paid out.
    sharer.goto(f"{base}/me/withdrawals/")
    status = sharer.locator(f"[data-testid=withdrawal-status-{withdrawal['id']}]")
    assert "pill-paid_out" in (status.get_attribute("class") or ""), status.inner_text()
    final = server.api("GET", "/withdrawals", as_=SHARER).json()
    rows = final["items"] if isinstance(final, dict) else final
    assert next(r for r in rows if r["id"] == withdrawal["id"])["status"] == "paid_out"

    # And the ledger, checked by the operator through the API, is balanced.
    health = server.api("GET", "/ledger/health", as_="operator")
    assert health.status_code == 200, health.text
    assert health.json()["balanced"] is True
