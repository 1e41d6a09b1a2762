"""Micro-shops through /api/v1: open_shop, add_selection, get_shop."""

from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.catalog.models import Product
from kinshop.shops.models import Selection, SelectionPrice, Shop

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    body = response.json()
    assert set(body) <= {"code", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    return body


# open_shop


def test_any_user_opens_one_shop_for_free(api):
    user = testing.make_user("ann")

    response = api(user).post("/shops", {"handle": "Ann-Nuts", "name": " Ann's nuts ", "bio": "Hi"})

    assert response.status_code == 201
    shop = Shop.objects.get(owner=user)
    assert response.json() == {
        "id": shop.id,
        "handle": "ann-nuts",
        "name": "Ann's nuts",
        "bio": "Hi",
        "url": "/shop/ann-nuts/",
    }


def test_open_shop_refuses_anonymous_callers(api):
    response = api().post("/shops", {"handle": "ann-nuts", "name": "Ann's nuts"})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert not Shop.objects.exists()


def test_a_taken_handle_is_a_conflict(api, shop):
    response = api(testing.make_user()).post("/shops", {"handle": "NutShop", "name": "Mine"})

    assert response.status_code == 409
    assert error(response)["code"] == "handle_taken"
    assert Shop.objects.count() == 1


def test_one_shop_per_user(api, shop):
    response = api(shop.owner).post("/shops", {"handle": "second", "name": "Second"})

    assert response.status_code == 409
    assert error(response)["code"] == "already_has_shop"
    assert Shop.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"handle": "ab", "name": "Shop"}, "invalid_handle"),
        ({"handle": "nut_shop", "name": "Shop"}, "invalid_handle"),
        ({"handle": "admin", "name": "Shop"}, "handle_reserved"),
        ({"handle": "good-one", "name": "   "}, "invalid_name"),
        ({"handle": "x" * 31, "name": "Shop"}, "invalid_input"),
        ({"handle": "good-one"}, "invalid_input"),
        ({"handle": 12345, "name": "Shop"}, "invalid_input"),
        ({"handle": "good-one", "name": "n" * 61}, "invalid_input"),
    ],
)
def test_open_shop_refuses_bad_input(api, payload, code):
    response = api(testing.make_user()).post("/shops", payload)

    assert response.status_code == 422
    assert error(response)["code"] == code
    assert not Shop.objects.exists()


def test_open_shop_with_malformed_json_is_a_400():
    client = testing.ApiClient(testing.make_user())

    response = client.client.post(
        "/api/v1/shops",
        data="{'handle': 'x'}",
        content_type="application/json",
        headers=client.headers,
    )

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_body"


# add_selection


def test_the_shopkeeper_selects_a_product_at_a_price_inside_the_band(api, product):
    keeper = testing.make_user()
    shop = testing.make_shop(owner=keeper, handle="ann-nuts")
    sku = product.skus.get()

    response = api(keeper).post(
        "/shops/ann-nuts/selections", {"product_id": product.id, "prices": {str(sku.id): 12000}}
    )

    assert response.status_code == 201
    assert response.json() == {
        "product_id": product.id,
        "title": "Hickory nuts 500 g",
        "supplier": "Lin'an Hickory Co.",
        "supplier_verified": True,
        "image": None,
        "skus": [
            {
                "sku_id": sku.id,
                "name": "500 g",
                "retail_price": 12000,
                "currency": "CNY",
                "stock_state": "in_stock",
            }
        ],
    }
    assert SelectionPrice.objects.get(shop=shop, sku=sku).retail_price == 12000


def test_an_unpriced_sku_sells_at_the_suggested_price(api, product):
    keeper = testing.make_user()
    shop = testing.make_shop(owner=keeper, handle="ann-nuts")

    response = api(keeper).post("/shops/ann-nuts/selections", {"product_id": product.id})

    assert response.status_code == 201
    assert response.json()["skus"][0]["retail_price"] == 9900
    assert SelectionPrice.objects.get(shop=shop).retail_price == 9900


def test_selecting_again_updates_the_price_and_keeps_one_selection(api, shop, product):
    sku = product.skus.get()

    response = api(shop.owner).post(
        "/shops/nutshop/selections", {"product_id": product.id, "prices": {str(sku.id): 8000}}
    )

    assert response.status_code == 201
    assert Selection.objects.filter(shop=shop).count() == 1
    assert SelectionPrice.objects.get(shop=shop, sku=sku).retail_price == 8000


@pytest.mark.parametrize("price", [7999, 12001, 0])
def test_a_price_outside_the_band_is_refused(api, shop, product, price):
    sku = product.skus.get()

    response = api(shop.owner).post(
        "/shops/nutshop/selections", {"product_id": product.id, "prices": {str(sku.id): price}}
    )

    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "price_out_of_band"
    assert body["details"] == {"sku_id": sku.id, "retail_min": 8000, "retail_max": 12000}
    assert SelectionPrice.objects.get(shop=shop, sku=sku).retail_price == 9900


def test_a_price_inside_the_band_that_no_longer_covers_the_fee_is_refused(
    api, shop, product, settings
):
    # given the operator raised the fee to 20% after the band was set:
    # 8000 − 6000 − 1600 − 800 = −400
    settings.KINSHOP_PLATFORM_FEE_BP = 2000
    sku = product.skus.get()

    response = api(shop.owner).post(
        "/shops/nutshop/selections", {"product_id": product.id, "prices": {str(sku.id): 8000}}
    )

    assert response.status_code == 422
    assert error(response)["code"] == "price_below_cost"


@pytest.mark.parametrize(
    ("prices", "code"),
    [
        ({"abc": 9900}, "invalid_sku_id"),
        ({"-1": 9900}, "invalid_sku_id"),
        ({"²": 9900}, "invalid_sku_id"),  # str.isdigit() says yes, int() says no
        ({"1" * 5000: 9900}, "invalid_sku_id"),  # more digits than int() will read
        ({"999999": 9900}, "unknown_sku"),
        ({"1": -5}, "invalid_price"),
        ({"1": "cheap"}, "invalid_input"),
        ({"1": 99.5}, "invalid_input"),
    ],
)
def test_add_selection_refuses_bad_prices(api, shop, product, prices, code):
    response = api(shop.owner).post(
        "/shops/nutshop/selections", {"product_id": product.id, "prices": prices}
    )

    assert response.status_code == 422
    assert error(response)["code"] == code


def test_prices_for_another_products_sku_are_refused(api, shop, product, supplier_pair):
    _, staff = supplier_pair
    other = testing.make_product(staff=staff)
    other_sku = other.skus.get()

    response = api(shop.owner).post(
        "/shops/nutshop/selections", {"product_id": product.id, "prices": {str(other_sku.id): 9900}}
    )

    assert response.status_code == 422
    assert error(response)["code"] == "unknown_sku"
    assert error(response)["details"] == {"sku_ids": [other_sku.id]}


def test_add_selection_refuses_anonymous_callers(api, shop, product):
    response = api().post("/shops/nutshop/selections", {"product_id": product.id})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("who", ["another shopkeeper", "the supplier's staff", "operator", "user"])
def test_only_the_shopkeeper_chooses_what_a_shop_sells(api, shop, product, supplier_pair, who):
    caller = {
        "another shopkeeper": testing.make_shop().owner,
        "the supplier's staff": supplier_pair[1],
        "operator": testing.make_operator(),
        "user": testing.make_user(),
    }[who]
    other = testing.make_product(staff=supplier_pair[1], title="Other")

    response = api(caller).post("/shops/nutshop/selections", {"product_id": other.id})

    assert response.status_code == 403
    assert error(response)["code"] == "not_shopkeeper"
    assert list(Selection.objects.filter(shop=shop).values_list("product_id", flat=True)) == [
        product.id
    ]


def test_selecting_for_an_unknown_shop_is_a_404(api, product):
    response = api(testing.make_user()).post(
        "/shops/no-such-shop/selections", {"product_id": product.id}
    )

    assert response.status_code == 404
    assert error(response)["code"] == "shop_not_found"


@pytest.mark.parametrize("kind", ["unverified supplier", "inactive", "unknown", "huge id"])
def test_only_market_products_can_be_selected(api, shop, kind):
    if kind == "unverified supplier":
        supplier, _ = testing.make_supplier(verified=False)
        product_id = Product.objects.create(supplier=supplier, title="X", commission_rate_bp=0).id
    elif kind == "inactive":
        product_id = testing.make_product(staff=testing.make_supplier()[1]).id
        Product.objects.filter(pk=product_id).update(is_active=False)
    elif kind == "unknown":
        product_id = 999999
    else:
        product_id = 10**20

    response = api(shop.owner).post("/shops/nutshop/selections", {"product_id": product_id})

    assert response.status_code == 404
    assert error(response)["code"] == "product_not_found"
    assert Selection.objects.filter(shop=shop).count() == 1


def test_add_selection_with_missing_product_id_is_invalid_input(api, shop):
    response = api(shop.owner).post("/shops/nutshop/selections", {"prices": {}})

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"


# get_shop


def test_anyone_sees_the_storefront(api, shop, product):
    sku = product.skus.get()

    response = api().get("/shops/NutShop")

    assert response.status_code == 200
    assert response.json() == {
        "id": shop.id,
        "handle": "nutshop",
        "name": shop.name,
        "bio": "",
        "url": "/shop/nutshop/",
        "keeper": shop.owner.username,
        "products": [
            {
                "product_id": product.id,
                "title": "Hickory nuts 500 g",
                "supplier": "Lin'an Hickory Co.",
                "supplier_verified": True,
                "image": None,
                "skus": [
                    {
                        "sku_id": sku.id,
                        "name": "500 g",
                        "retail_price": 9900,
                        "currency": "CNY",
                        "stock_state": "in_stock",
                    }
                ],
            }
        ],
    }


def test_the_storefront_shows_the_stock_state(api, shop, product, supplier_pair):
    sku = product.skus.get()
    api(supplier_pair[1]).post(f"/skus/{sku.id}/stock", {"delta": -97})

    body = api().get("/shops/nutshop").json()

    assert body["products"][0]["skus"][0]["stock_state"] == "low_stock"


def test_the_storefront_hides_products_of_a_suspended_supplier(api, shop, supplier_pair):
    supplier, _ = supplier_pair
    testing.catalog.change_supplier_status(
        supplier=supplier, to="suspended", actor=testing.make_operator()
    )

    body = api().get("/shops/nutshop").json()

    assert body["products"] == []


@pytest.mark.parametrize("handle", ["no-such-shop", "x" * 200])
def test_an_unknown_shop_is_a_404(api, handle):
    response = api().get(f"/shops/{handle}")

    assert response.status_code == 404
    assert error(response)["code"] == "shop_not_found"


def test_a_closed_shop_is_a_404(api, shop):
    Shop.objects.filter(pk=shop.pk).update(is_active=False)

    response = api().get("/shops/nutshop")

    assert response.status_code == 404


def _products_with_two_skus(staff, count):
    products = []
    for _ in range(count):
        products.append(
            testing.make_product(
                staff=staff,
                skus=[
                    {
                        "code": testing.unique("SKU-"),
                        "name": name,
                        "supply_price": 6000,
                        "retail_min": 8000,
                        "retail_max": 12000,
                        "suggested_retail_price": 9900,
                        "stock": 10,
                    }
                    for name in ("500 g", "1 kg")
                ],
            )
        )
    return products


def test_get_shop_uses_the_same_number_of_queries_for_2_or_12_products(api, supplier_pair):
    _, staff = supplier_pair
    keeper = testing.make_user()
    shop = testing.make_shop(owner=keeper, handle="big-shop")
    for product in _products_with_two_skus(staff, 2):
        testing.shops.add_selection(user=keeper, shop=shop, product_id=product.id, prices={})
    client = api()

    # shop + owner, selections + product + supplier, prices + sku, images
    with testing.assert_query_count(4):
        assert len(client.get("/shops/big-shop").json()["products"]) == 2
    for product in _products_with_two_skus(staff, 10):
        testing.shops.add_selection(user=keeper, shop=shop, product_id=product.id, prices={})
    with testing.assert_query_count(4):
        assert len(client.get("/shops/big-shop").json()["products"]) == 12
