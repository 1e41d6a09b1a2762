"""Issue 10, items 1, 2 and 8, re-tried as the attacker did, through the API and
the pages: a second account earns nothing for the first (same phone however
written, same device, same payer account), a shopkeeper's second account earns
nothing on the keeper's shop, and nobody locks stock up with unpaid orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kinshop import testing
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.orders.models import Order, OrderLine

pytestmark = pytest.mark.django_db

SHARER_PHONE = "13900000001"
DEVICE = "sharers-phone-0123456789"


def address(phone: str) -> dict:
    return {"name": "小号", "phone": phone, "region": "浙江省杭州市", "detail": "文一西路 1 号"}


def register(username: str, phone: str = "", headers: dict | None = None):
    body = {"username": username, "password": testing.PASSWORD}
    if phone:
        body["phone"] = phone
    response = Client().post(
        "/api/v1/accounts", body, content_type="application/json", headers=headers or {}
    )
    assert response.status_code == 201, response.json()
    return testing.User.objects.get(pk=response.json()["id"])


def share(api, sharer, shop, headers: dict | None = None) -> str:
    response = api(sharer).post("/share-links", {"shop": shop.handle}, headers=headers)
    assert response.status_code == 201, response.json()
    return response.json()["code"]


def order(api, buyer, shop, sku, *, phone: str, code: str = "", quantity: int = 1, headers=None):
    body = {
        "shop": shop.handle,
        "lines": [{"sku_id": sku.id, "quantity": quantity}],
        "address": address(phone),
    }
    if code:
        body["share_code"] = code
    return api(buyer).post("/orders", body, headers=headers)


def pay(api, buyer, order_id: int, payer_id: str = ""):
    client = api(buyer)
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    confirmed = client.post(
        f"/payments/{payment['id']}/sandbox-confirm", {"payer_id": payer_id} if payer_id else {}
    )
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "captured"


def wallet(api, user) -> dict:
    return api(user).get("/wallet").json()


# ---- 1. a second account earns commission for the first -------------------------------


@pytest.mark.parametrize(
    "recipient_phone",
    [
        SHARER_PHONE,
        "0086 139 0000 0001",
        "+86-139-0000-0001",
        "8613900000001",
        "１３９００００００01",
    ],
)
def test_a_new_account_shipping_to_the_sharers_phone_pays_the_sharer_nothing(
    api, shop, product, recipient_phone
):
    # given sharer A with a phone, and a new account with none
    sharer = register("sharer-a", SHARER_PHONE)
    code = share(api, sharer, shop)
    second = register("second-account")
    # when the second account orders through A's link to A's phone, and pays
    placed = order(api, second, shop, product.skus.get(), phone=recipient_phone, code=code)
    assert placed.status_code == 201, placed.json()
    pay(api, second, placed.json()["id"])
    # then A earns nothing, and the line says why
    assert placed.json()["lines"][0]["commission_beneficiary_id"] is None
    assert wallet(api, sharer)["pending"] == 0
    line = OrderLine.objects.get(order_id=placed.json()["id"])
    assert line.commission_refusal == "linked_identity"
    assert "same phone" in line.attribution_note


def test_registering_with_0086_is_the_same_phone(api, shop, product):
    sharer = register("sharer-a", "0086-13900000001")
    assert sharer.phone == SHARER_PHONE
    code = share(api, sharer, shop)
    second = register("second-account")

    placed = order(api, second, shop, product.skus.get(), phone=SHARER_PHONE, code=code)
    pay(api, second, placed.json()["id"])

    assert placed.json()["lines"][0]["commission_beneficiary_id"] is None
    assert wallet(api, sharer)["pending"] == 0


def test_a_third_account_that_once_shipped_to_the_second_is_linked_through_it(api, shop, product):
    # given a sharer who ships their own orders to a phone written full-width
    sharer = register("sharer-a")
    sku = product.skus.get()
    own = order(api, sharer, shop, sku, phone="１３７００００００１１")
    assert own.status_code == 201, own.json()
    code = share(api, sharer, shop)
    # when another account orders to the same phone, written with +86
    buyer = register("other-account")
    placed = order(api, buyer, shop, sku, phone="+86 137 0000 0011", code=code)
    # then the sharer earns nothing
    assert placed.json()["lines"][0]["commission_beneficiary_id"] is None


def test_an_order_from_the_sharers_device_pays_the_sharer_nothing(api, shop, product):
    # given a sharer who shared from their phone's app
    sharer = register("sharer-a")
    code = share(api, sharer, shop, headers={"X-Device-Id": DEVICE})
    # when a second account orders through the link on the same device
    second = register("second-account")
    placed = order(
        api,
        second,
        shop,
        product.skus.get(),
        phone="13700000002",
        code=code,
        headers={"X-Device-Id": DEVICE},
    )
    pay(api, second, placed.json()["id"])
    # then the sharer earns nothing
    assert placed.json()["lines"][0]["commission_beneficiary_id"] is None
    assert "same device" in OrderLine.objects.get(order_id=placed.json()["id"]).attribution_note
    assert wallet(api, sharer)["pending"] == 0


def test_a_device_id_minted_for_one_request_is_no_evidence(api, shop, product):
    # given two accounts calling the API without a device header or cookie
    sharer = register("sharer-a")
    code = share(api, sharer, shop)
    buyer = register("buyer-b")
    placed = order(api, buyer, shop, product.skus.get(), phone="13700000012", code=code)
    # then no device was kept for either, and the sharer earns
    assert not testing.User.objects.filter(identifiers__kind="device").exists()
    assert placed.json()["lines"][0]["commission_beneficiary_id"] == sharer.id


def test_a_stranger_on_another_device_still_earns_the_sharer_commission(api, shop, product):
    sharer = register("sharer-a", SHARER_PHONE)
    code = share(api, sharer, shop, headers={"X-Device-Id": DEVICE})
    friend = register("friend", "13700000003")

    placed = order(
        api,
        friend,
        shop,
        product.skus.get(),
        phone="13700000003",
        code=code,
        headers={"X-Device-Id": "friends-phone-9876543210"},
    )
    pay(api, friend, placed.json()["id"])

    assert placed.json()["lines"][0]["commission_beneficiary_id"] == sharer.id
    assert wallet(api, sharer)["pending"] == 990  # 10 % of 99.00


def test_the_browser_the_sharer_signed_in_on_links_the_next_account(shop, product):
    # given a sharer who signed in on this browser (which keeps its device cookie)
    browser = Client()
    sharer = testing.make_user("sharer-a")
    browser.get("/accounts/sign-in/")  # the first visit sets the device cookie
    response = browser.post(
        "/accounts/sign-in/", {"username": "sharer-a", "password": testing.PASSWORD}
    )
    assert response.status_code == 302
    code = testing.ApiClient(sharer).post("/share-links", {"shop": shop.handle}).json()["code"]
    browser.post("/accounts/sign-out/")
    # when a second account signs up on the same browser and orders through the link
    response = browser.post(
        "/accounts/sign-up/", {"username": "second-account", "password": testing.PASSWORD}
    )
    assert response.status_code == 302
    browser.get(f"/s/{code}")
    browser.post("/cart/add/", {"shop": shop.handle, "sku": product.skus.get().id, "quantity": 1})
    response = browser.post(f"/checkout/?shop={shop.handle}", address("13700000004"))
    assert response.status_code == 302
    # then the sharer earns nothing: one device
    line = OrderLine.objects.get(order__buyer__username="second-account")
    assert line.attribution_click.sharer_id == sharer.id
    assert (line.commission_beneficiary_id, line.commission_refusal) == (None, "linked_identity")


def test_paying_from_the_sharers_payment_account_withdraws_the_commission(api, shop, product):
    # given a sharer who once paid an order from their bank account
    sku = product.skus.get()
    sharer = register("sharer-a", SHARER_PHONE)
    own = order(api, sharer, shop, sku, phone=SHARER_PHONE)
    pay(api, sharer, own.json()["id"], payer_id="bank-6222-0001")
    code = share(api, sharer, shop)
    # and an account with another phone and device that orders through the link
    second = register("second-account", "13700000005")
    placed = order(api, second, shop, sku, phone="13700000005", code=code)
    assert placed.json()["lines"][0]["commission_beneficiary_id"] == sharer.id
    # when it pays from the sharer's bank account
    pay(api, second, placed.json()["id"], payer_id="bank-6222-0001")
    # then the commission is not paid: the margin keeps it
    line = OrderLine.objects.get(order_id=placed.json()["id"])
    assert (line.commission_beneficiary_id, line.commission_rate_bp) == (None, 0)
    assert line.commission_refusal == "linked_identity"
    assert line.attribution_note.startswith("linked_identity at payment: ")
    assert "same payer" in line.attribution_note
    assert wallet(api, sharer)["pending"] == 0
    assert wallet(api, shop.owner)["wallet"] == "sharer"
    shop_wallet = api(shop.owner).get("/wallet", **{"as": "shop"}).json()
    assert shop_wallet["pending"] == 2 * (9900 - 6000)


# ---- 8. a shopkeeper's second account -----------------------------------------------------


def test_a_shopkeepers_second_account_earns_nothing_on_the_keepers_shop(api, product):
    # given a shopkeeper with a phone, and their second account with the same phone
    keeper = register("keeper-a", SHARER_PHONE)
    shop = testing.make_shop(owner=keeper, handle="keepers-shop", products=[product], price=9900)
    twin = register("keeper-twin", "+86 139 0000 0001")
    code = share(api, twin, shop)
    # when a real customer buys through the twin's link
    customer = register("customer", "13600000006")
    placed = order(api, customer, shop, product.skus.get(), phone="13600000006", code=code)
    pay(api, customer, placed.json()["id"])
    # then the twin earns nothing: the keeper earns the margin instead
    line = OrderLine.objects.get(order_id=placed.json()["id"])
    assert (line.commission_beneficiary_id, line.commission_refusal) == (None, "shopkeeper")
    assert wallet(api, twin)["pending"] == 0


# ---- 2. stock locked up without paying ----------------------------------------------------


@pytest.fixture
def scarce_sku(product):
    sku = product.skus.get()
    SKU.objects.filter(pk=sku.pk).update(stock=24)
    return sku


def test_one_buyer_cannot_lock_up_all_the_stock(api, shop, scarce_sku):
    hoarder = register("hoarder")
    # all 24 at once
    refused = order(api, hoarder, shop, scarce_sku, phone="13700000007", quantity=24)
    assert refused.status_code == 409
    assert refused.json()["code"] == "too_many_unpaid"
    assert refused.json()["details"]["limit"] == 10
    # or ten, then one more
    assert order(api, hoarder, shop, scarce_sku, phone="13700000007", quantity=10).status_code == (
        201
    )
    refused = order(api, hoarder, shop, scarce_sku, phone="13700000007", quantity=1)
    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_unpaid")
    # and everyone else can still buy
    assert SKU.objects.get(pk=scarce_sku.pk).stock == 14
    other = register("other-buyer")
    assert order(api, other, shop, scarce_sku, phone="13600000008", quantity=3).status_code == 201


def test_a_linked_account_counts_with_the_first(api, shop, scarce_sku):
    hoarder = register("hoarder", "13700000007")
    assert order(api, hoarder, shop, scarce_sku, phone="13700000007", quantity=8).status_code == (
        201
    )
    second = register("hoarder-2")

    refused = order(api, second, shop, scarce_sku, phone="0086 137 0000 0007", quantity=3)

    assert (refused.status_code, refused.json()["code"]) == (409, "too_many_unpaid")
    assert order(api, second, shop, scarce_sku, phone="13700000007", quantity=2).status_code == 201


def test_paid_and_cancelled_orders_free_the_allowance(api, shop, scarce_sku):
    buyer = register("buyer")
    first = order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=6).json()
    second = order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=4).json()
    assert order(api, buyer, shop, scarce_sku, phone="13700000007").status_code == 409

    pay(api, buyer, first["id"])
    assert api(buyer).post(f"/orders/{second['id']}/cancel").status_code == 200

    assert order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=10).status_code == (
        201
    )


def test_the_cap_is_a_setting(settings, api, shop, scarce_sku):
    settings.KINSHOP_MAX_UNPAID_UNITS = 2
    buyer = register("buyer")

    assert order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=2).status_code == 201
    assert order(api, buyer, shop, scarce_sku, phone="13700000007").json()["code"] == (
        "too_many_unpaid"
    )


def test_the_checkout_page_explains_the_cap(shop, scarce_sku):
    buyer = testing.make_user("buyer")
    browser = Client()
    browser.force_login(buyer)
    browser.post("/cart/add/", {"shop": shop.handle, "sku": scarce_sku.id, "quantity": 11})

    response = browser.post(f"/checkout/?shop={shop.handle}", address("13700000007"))

    assert response.status_code == 200
    assert Order.objects.count() == 0
    assert "同一商品最多只能有 10 件待付款" in response.content.decode()
    assert SKU.objects.get(pk=scarce_sku.pk).stock == 24


# ---- 7. the compliance report's self-purchases ---------------------------------------------


def test_self_purchases_count_own_links_linked_accounts_and_keepers(api, shop, product, operator):
    sku = product.skus.get()
    # a sharer buying through their own link
    sharer = register("sharer-a", SHARER_PHONE)
    code = share(api, sharer, shop)
    own = order(api, sharer, shop, sku, phone=SHARER_PHONE, code=code).json()
    pay(api, sharer, own["id"])
    # their second account buying through it
    twin = register("sharer-twin")
    linked = order(api, twin, shop, sku, phone="0086 13900000001", code=code).json()
    pay(api, twin, linked["id"])
    # the keeper buying in their own shop
    keepers = order(api, shop.owner, shop, sku, phone="13500000009").json()
    pay(api, shop.owner, keepers["id"])
    # and a real customer brought by the sharer, and one left unpaid
    customer = register("customer", "13600000006")
    bought = order(api, customer, shop, sku, phone="13600000006", code=code).json()
    pay(api, customer, bought["id"])
    order(api, twin, shop, sku, phone="13900000001", code=code)

    report = api(operator).get("/compliance/report").json()

    assert report["orders"] == 4
    assert (
        report["own_link_orders"],
        report["linked_identity_orders"],
        report["shopkeeper_own_orders"],
        report["self_purchase_orders"],
    ) == (1, 1, 1, 3)
    assert report["self_purchase_share"] == 0.75
    assert report["self_commissioned_lines"] == 0
    assert report["commissioned_lines"] == 1


def test_the_sandbox_bank_page_reports_the_payer_account(shop, product):
    # given a sharer who paid once from sandbox account 6222-0001, on the pages
    sku = product.skus.get()
    sharer = testing.make_user("sharer-a")
    code = testing.ApiClient(sharer).post("/share-links", {"shop": shop.handle}).json()["code"]
    second = testing.make_user("second-account")

    def buy_and_pay(user, share_code, payer_id):
        browser = Client()
        browser.force_login(user)
        if share_code:
            browser.get(f"/s/{share_code}")
        browser.post("/cart/add/", {"shop": shop.handle, "sku": sku.id, "quantity": 1})
        response = browser.post(f"/checkout/?shop={shop.handle}", address(f"1370000{user.pk:04d}"))
        order_id = int(response["Location"].split("/")[2])
        pay_url = browser.post(f"/orders/{order_id}/pay/", {"provider": "sandbox"})["Location"]
        assert browser.post(pay_url, {"payer_id": "bad id!"}).status_code == 422
        assert browser.post(pay_url, {"payer_id": payer_id}).status_code == 302
        return OrderLine.objects.get(order_id=order_id)

    buy_and_pay(sharer, "", "6222-0001")
    # when a second account buys through the link and pays from the same account
    line = buy_and_pay(second, code, "6222-0001")
    # then the sharer earns nothing
    assert (line.commission_beneficiary_id, line.commission_refusal) == (None, "linked_identity")
    assert "same payer" in line.attribution_note


@pytest.mark.parametrize(
    "typed", ["0086 (139) 0000 - 0001", "００８６　１３９　００００　０００１", "+86-139-0000-0001"]
)
def test_a_recipient_phone_is_stored_in_its_canonical_form(api, shop, product, typed):
    buyer = register("buyer")

    placed = order(api, buyer, shop, product.skus.get(), phone=typed)

    assert placed.status_code == 201, placed.json()
    assert Order.objects.get(pk=placed.json()["id"]).recipient_phone == SHARER_PHONE


def test_a_phone_that_does_not_normalise_to_a_number_is_refused(api, shop, product):
    buyer = register("buyer")

    refused = order(api, buyer, shop, product.skus.get(), phone="139 0000 000x")

    assert (refused.status_code, refused.json()["code"]) == (422, "invalid_phone")


def test_an_order_past_its_payment_deadline_no_longer_counts(api, shop, scarce_sku):
    buyer = register("buyer")
    assert order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=10).status_code == (
        201
    )
    assert order(api, buyer, shop, scarce_sku, phone="13700000007").status_code == 409

    with clock.travel(dt.timedelta(minutes=31)):  # past the deadline, before the job ran
        placed = order(api, buyer, shop, scarce_sku, phone="13700000007", quantity=10)

    assert placed.status_code == 201, placed.json()
