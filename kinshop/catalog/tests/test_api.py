"""Suppliers and the supply market through /api/v1: apply_supplier, verify_supplier,
create_product, list_products, get_product, adjust_stock; and the admin action."""

from __future__ import annotations

import pytest
from django.test import Client

from kinshop import testing
from kinshop.catalog.models import SKU, Product, Supplier, SupplierMembership, SupplierStatusChange

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    body = response.json()
    assert set(body) <= {"code", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    return body


def sku_payload(**overrides) -> dict:
    return {
        "code": "HN-500",
        "name": "500 g",
        "supply_price": 6000,
        "retail_min": 8000,
        "retail_max": 12000,
        "suggested_retail_price": 9900,
        "stock": 10,
        **overrides,
    }


def product_payload(**overrides) -> dict:
    return {
        "title": "Hickory nuts",
        "description": "From Lin'an.",
        "commission_rate_bp": 1000,
        "skus": [sku_payload()],
        **overrides,
    }


# apply_supplier


def test_any_user_can_apply_and_becomes_the_suppliers_staff(api):
    user = testing.make_user()

    response = api(user).post("/suppliers", {"name": "Hickory Co.", "license_no": "91330100"})

    assert response.status_code == 201
    supplier = Supplier.objects.get()
    assert response.json() == {
        "id": supplier.id,
        "name": "Hickory Co.",
        "status": "pending",
        "is_verified": False,
    }
    membership = SupplierMembership.objects.get(user=user)
    assert (membership.supplier_id, membership.is_owner) == (supplier.id, True)
    assert list(supplier.history.values_list("from_status", "to_status", "actor")) == [
        ("", "pending", user.id)
    ]


def test_apply_supplier_refuses_anonymous_callers(api):
    response = api().post("/suppliers", {"name": "Hickory Co.", "license_no": "91330100"})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert not Supplier.objects.exists()


def test_one_supplier_per_person(api, supplier_pair):
    _, staff = supplier_pair

    response = api(staff).post("/suppliers", {"name": "Second Co.", "license_no": "L2"})

    assert response.status_code == 409
    assert error(response)["code"] == "already_supplier_staff"
    assert Supplier.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"name": "   ", "license_no": "L1"}, "missing_field"),
        ({"name": "", "license_no": "L1"}, "invalid_input"),
        ({"name": "Hickory Co."}, "invalid_input"),
        ({"name": "Hickory Co.", "license_no": 7}, "invalid_input"),
    ],
)
def test_apply_supplier_refuses_bad_input(api, payload, code):
    response = api(testing.make_user()).post("/suppliers", payload)

    assert response.status_code == 422
    assert error(response)["code"] == code
    assert not Supplier.objects.exists()


# verify_supplier


def test_an_operator_verifies_a_supplier(api, operator):
    supplier, _ = testing.make_supplier(verified=False)

    response = api(operator).post(f"/suppliers/{supplier.id}/verify")

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert response.json()["is_verified"] is True
    supplier.refresh_from_db()
    assert supplier.status == "verified" and supplier.verified_at is not None
    change = supplier.history.last()
    assert (change.from_status, change.to_status, change.actor) == ("pending", "verified", operator)


@pytest.mark.parametrize("who", ["its own staff", "a shopkeeper", "a plain user"])
def test_only_an_operator_can_verify_a_supplier(api, shop, who):
    supplier, staff = testing.make_supplier(verified=False)
    caller = {
        "its own staff": staff,
        "a shopkeeper": shop.owner,
        "a plain user": testing.make_user(),
    }

    response = api(caller[who]).post(f"/suppliers/{supplier.id}/verify")

    assert response.status_code == 403
    assert error(response)["code"] == "not_operator"
    supplier.refresh_from_db()
    assert supplier.status == "pending"


def test_verify_supplier_refuses_anonymous_callers(api):
    supplier, _ = testing.make_supplier(verified=False)

    response = api().post(f"/suppliers/{supplier.id}/verify")

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


def test_verifying_a_verified_supplier_is_an_invalid_transition(api, operator, supplier_pair):
    supplier, _ = supplier_pair
    changes = SupplierStatusChange.objects.count()

    response = api(operator).post(f"/suppliers/{supplier.id}/verify")

    assert response.status_code == 409
    assert error(response) == {
        "code": "invalid_transition",
        "message": "A supplier cannot go from 'verified' to 'verified'.",
        "details": {"current": "verified", "target": "verified"},
    }
    assert SupplierStatusChange.objects.count() == changes


@pytest.mark.parametrize("supplier_id", ["999999", "99999999999999999999"])
def test_verifying_an_unknown_supplier_is_a_404(api, operator, supplier_id):
    response = api(operator).post(f"/suppliers/{supplier_id}/verify")

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


def test_the_admin_action_verifies_through_the_service():
    # given a superuser signed in to the operator console
    admin = testing.make_user("root", is_staff=True, is_superuser=True)
    supplier, _ = testing.make_supplier(verified=False)
    client = Client()
    client.force_login(admin)

    # when they run "Verify selected suppliers"
    response = client.post(
        "/admin/catalog/supplier/",
        {"action": "mark_verified", "_selected_action": [supplier.pk], "index": 0},
        follow=True,
    )

    # then the supplier is verified and the change is recorded with its actor
    assert response.status_code == 200
    supplier.refresh_from_db()
    assert supplier.status == "verified"
    assert supplier.verified_at is not None
    change = SupplierStatusChange.objects.get(supplier=supplier, to_status="verified")
    assert (change.from_status, change.actor, change.reason) == ("pending", admin, "admin action")


def test_the_admin_action_reports_an_invalid_transition_and_changes_nothing(supplier_pair):
    admin = testing.make_user("root", is_staff=True, is_superuser=True)
    supplier, _ = supplier_pair
    changes = SupplierStatusChange.objects.count()
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/admin/catalog/supplier/",
        {"action": "mark_verified", "_selected_action": [supplier.pk], "index": 0},
        follow=True,
    )

    assert response.status_code == 200
    assert "cannot go from" in response.content.decode()
    assert SupplierStatusChange.objects.count() == changes


# create_product


def test_verified_supplier_staff_create_a_product(api, supplier_pair):
    supplier, staff = supplier_pair

    response = api(staff).post("/products", product_payload())

    assert response.status_code == 201
    product = Product.objects.get()
    sku = SKU.objects.get()
    assert response.json() == {
        "id": product.id,
        "title": "Hickory nuts",
        "description": "From Lin'an.",
        "commission_rate_bp": 1000,
        "supplier": {
            "id": supplier.id,
            "name": "Lin'an Hickory Co.",
            "status": "verified",
            "is_verified": True,
        },
        "images": [],
        "skus": [
            {
                "id": sku.id,
                "code": "HN-500",
                "name": "500 g",
                "supply_price": 6000,
                "retail_min": 8000,
                "retail_max": 12000,
                "suggested_retail_price": 9900,
                "stock": 10,
                "stock_state": "in_stock",
                "currency": "CNY",
            }
        ],
    }
    assert (product.supplier_id, sku.supplier_id) == (supplier.id, supplier.id)


def test_create_product_refuses_anonymous_callers(api):
    response = api().post("/products", product_payload())

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


@pytest.mark.parametrize("who", ["plain user", "shopkeeper", "operator"])
def test_only_supplier_staff_create_products(api, shop, operator, who):
    caller = {"plain user": testing.make_user(), "shopkeeper": shop.owner, "operator": operator}

    response = api(caller[who]).post("/products", product_payload())

    assert response.status_code == 403
    assert error(response)["code"] == "not_supplier_staff"
    assert Product.objects.count() == 1  # the shop fixture's


def test_staff_of_an_unverified_supplier_cannot_create_products(api):
    _, staff = testing.make_supplier(verified=False)

    response = api(staff).post("/products", product_payload())

    assert response.status_code == 403
    assert error(response)["code"] == "supplier_not_verified"
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"skus": [sku_payload(supply_price=9000)]}, "band_below_cost"),
        ({"skus": [sku_payload(retail_min=12001, suggested_retail_price=12001)]}, "band_inverted"),
        ({"skus": [sku_payload(suggested_retail_price=13000)]}, "suggested_price_out_of_band"),
        ({"commission_rate_bp": 3001}, "commission_rate_out_of_range"),
        ({"title": "  "}, "missing_title"),
        ({"skus": [sku_payload(), sku_payload(name="1 kg")]}, "duplicate_sku_code"),
        ({"skus": [sku_payload(code="  ")]}, "duplicate_sku_code"),
        ({"skus": []}, "invalid_input"),
        ({"skus": [sku_payload(stock=-1)]}, "invalid_input"),
        ({"skus": [sku_payload(supply_price=-1)]}, "invalid_input"),
        ({"skus": [sku_payload(supply_price="lots")]}, "invalid_input"),
        ({"skus": [sku_payload(retail_max=10**13)]}, "invalid_input"),
        ({"commission_rate_bp": 10001}, "invalid_input"),
        ({"commission_rate_bp": 10.5}, "invalid_input"),
        ({"title": None}, "invalid_input"),
        ({"skus": "HN-500"}, "invalid_input"),
    ],
)
def test_create_product_refuses_bad_input(api, supplier_pair, overrides, code):
    _, staff = supplier_pair

    response = api(staff).post("/products", product_payload(**overrides))

    assert response.status_code == 422
    assert error(response)["code"] == code
    assert not Product.objects.exists()
    assert not SKU.objects.exists()


def test_create_product_with_missing_fields_is_invalid_input(api, supplier_pair):
    _, staff = supplier_pair
    sku = sku_payload()
    del sku["supply_price"]

    response = api(staff).post(
        "/products", {"title": "Nuts", "commission_rate_bp": 0, "skus": [sku]}
    )

    assert response.status_code == 422
    body = error(response)
    assert body["code"] == "invalid_input"
    assert [e["field"] for e in body["details"]["errors"]] == ["body.payload.skus.0.supply_price"]


def test_a_sku_code_is_unique_per_supplier(api, supplier_pair):
    _, staff = supplier_pair
    api(staff).post("/products", product_payload())
    other_supplier_staff = testing.make_supplier()[1]

    again = api(staff).post("/products", product_payload(title="Again"))
    elsewhere = api(other_supplier_staff).post("/products", product_payload(title="Elsewhere"))

    assert again.status_code == 409
    assert error(again)["code"] == "sku_code_taken"
    assert elsewhere.status_code == 201


def test_the_band_must_cover_the_platform_fee_too(api, supplier_pair, settings):
    # given a 10% fee and 10% commission, the floor 8000 leaves 8000 − 6000 − 800 − 800 = 400
    settings.KINSHOP_PLATFORM_FEE_BP = 1000
    _, staff = supplier_pair

    fits = api(staff).post("/products", product_payload(skus=[sku_payload(supply_price=6400)]))
    too_high = api(staff).post(
        "/products", product_payload(skus=[sku_payload(code="B", supply_price=6401)])
    )

    assert fits.status_code == 201
    assert too_high.status_code == 422
    assert error(too_high)["code"] == "band_below_cost"


def test_malformed_json_is_a_400(supplier_pair):
    _, staff = supplier_pair
    client = testing.ApiClient(staff)

    response = client.client.post(
        "/api/v1/products",
        data='{"title": ',
        content_type="application/json",
        headers=client.headers,
    )

    assert response.status_code == 400
    assert error(response)["code"] == "malformed_body"


# list_products


def test_the_market_lists_only_active_products_of_verified_suppliers(api, product):
    # given a pending supplier's product and a suspended supplier's product
    pending, _ = testing.make_supplier(verified=False)
    hidden = Product.objects.create(supplier=pending, title="Pending", commission_rate_bp=0)
    suspended, suspended_staff = testing.make_supplier()
    suspended_product = testing.make_product(staff=suspended_staff, title="Suspended")
    testing.catalog.change_supplier_status(
        supplier=suspended, to="suspended", actor=testing.make_operator()
    )
    inactive = testing.make_product(staff=testing.make_supplier()[1], title="Inactive")
    Product.objects.filter(pk=inactive.pk).update(is_active=False)

    response = api().get("/products")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [item["id"] for item in body["items"]] == [product.id]
    assert hidden.id != suspended_product.id  # both exist, neither is listed


def test_list_products_is_paginated(api, supplier_pair):
    _, staff = supplier_pair
    products = [testing.make_product(staff=staff, title=f"Nuts {n}") for n in range(5)]

    first = api().get("/products", limit=2).json()
    middle = api().get("/products", limit=2, offset=2).json()
    past_the_end = api().get("/products", limit=2, offset=10).json()

    assert first["count"] == middle["count"] == past_the_end["count"] == 5
    assert [item["id"] for item in first["items"]] == [products[0].id, products[1].id]
    assert [item["id"] for item in middle["items"]] == [products[2].id, products[3].id]
    assert past_the_end["items"] == []


def test_list_products_defaults_to_20(api, supplier_pair):
    _, staff = supplier_pair
    for n in range(21):
        testing.make_product(staff=staff, title=f"Nuts {n}")

    body = api().get("/products").json()

    assert (len(body["items"]), body["count"]) == (20, 21)


def test_list_products_searches_titles(api, supplier_pair):
    _, staff = supplier_pair
    nuts = testing.make_product(staff=staff, title="Hickory nuts")
    testing.make_product(staff=staff, title="Green tea")

    body = api().get("/products", q="HICKORY").json()

    assert body["count"] == 1
    assert body["items"][0]["id"] == nuts.id


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}, {"q": "x" * 101}]
)
def test_bad_pagination_is_invalid_input(api, params):
    response = api().get("/products", **params)

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"


def test_list_products_uses_the_same_number_of_queries_for_2_or_12_products(api, supplier_pair):
    _, staff = supplier_pair
    two_skus = [sku_payload(code="A"), sku_payload(code="B", name="1 kg")]
    for n in range(2):
        testing.make_product(staff=staff, skus=[{**s, "code": f"{s['code']}{n}"} for s in two_skus])
    client = api()
    # count, products + supplier, skus, images
    with testing.assert_query_count(4):
        assert client.get("/products").json()["count"] == 2

    for n in range(2, 12):
        testing.make_product(staff=staff, skus=[{**s, "code": f"{s['code']}{n}"} for s in two_skus])
    with testing.assert_query_count(4):
        assert client.get("/products").json()["count"] == 12


# get_product


def test_anyone_can_see_a_market_product(api, product):
    response = api().get(f"/products/{product.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == product.id
    assert body["title"] == "Hickory nuts 500 g"
    assert [sku["stock"] for sku in body["skus"]] == [100]


def test_an_unverified_suppliers_product_is_a_404_to_strangers(api, operator):
    supplier, staff = testing.make_supplier(verified=False)
    hidden = Product.objects.create(supplier=supplier, title="Pending", commission_rate_bp=0)
    stranger = testing.make_user()
    other_staff = testing.make_supplier()[1]

    for client in (api(), api(stranger), api(other_staff)):
        response = client.get(f"/products/{hidden.id}")
        assert response.status_code == 404
        assert error(response)["code"] == "product_not_found"
    assert api(staff).get(f"/products/{hidden.id}").status_code == 200
    assert api(operator).get(f"/products/{hidden.id}").status_code == 200


def test_an_inactive_product_is_visible_only_to_its_staff(api, supplier_pair, product):
    _, staff = supplier_pair
    Product.objects.filter(pk=product.pk).update(is_active=False)

    assert api().get(f"/products/{product.id}").status_code == 404
    assert api(staff).get(f"/products/{product.id}").status_code == 200


def test_the_own_staff_see_an_unlisted_product_through_their_browser_session(supplier_pair):
    supplier, staff = supplier_pair
    hidden = Product.objects.create(supplier=supplier, title="Draft", commission_rate_bp=0)
    Product.objects.filter(pk=hidden.pk).update(is_active=False)
    client = Client()
    client.force_login(staff)

    assert client.get(f"/api/v1/products/{hidden.id}").status_code == 200


@pytest.mark.parametrize("product_id", ["999999", "99999999999999999999"])
def test_an_unknown_product_is_a_404(api, product_id):
    response = api().get(f"/products/{product_id}")

    assert response.status_code == 404
    assert error(response)["code"] == "product_not_found"


def test_a_non_numeric_product_id_is_not_a_500(api):
    response = api().get("/products/abc")

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"


def test_an_invalid_token_on_an_unlisted_product_is_a_401(product):
    Product.objects.filter(pk=product.pk).update(is_active=False)

    response = Client().get(
        f"/api/v1/products/{product.id}", headers={"Authorization": "Bearer ks_wrong"}
    )

    assert response.status_code == 401
    assert error(response)["code"] == "invalid_token"


# adjust_stock


def test_supplier_staff_add_and_remove_stock(api, supplier_pair, product):
    _, staff = supplier_pair
    sku = product.skus.get()

    added = api(staff).post(f"/skus/{sku.id}/stock", {"delta": 25})
    removed = api(staff).post(f"/skus/{sku.id}/stock", {"delta": -125})

    assert added.status_code == 200
    assert added.json() == {"sku_id": sku.id, "stock": 125}
    assert removed.json() == {"sku_id": sku.id, "stock": 0}
    sku.refresh_from_db()
    assert sku.stock == 0


def test_stock_never_goes_below_zero(api, supplier_pair, product):
    _, staff = supplier_pair
    sku = product.skus.get()

    response = api(staff).post(f"/skus/{sku.id}/stock", {"delta": -101})

    assert response.status_code == 409
    assert error(response)["code"] == "out_of_stock"
    sku.refresh_from_db()
    assert sku.stock == 100


def test_adjust_stock_refuses_anonymous_callers(api, product):
    sku = product.skus.get()

    response = api().post(f"/skus/{sku.id}/stock", {"delta": 5})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "who", ["another supplier's staff", "shopkeeper", "operator", "plain user"]
)
def test_only_the_suppliers_own_staff_adjust_its_stock(api, shop, product, operator, who):
    caller = {
        "another supplier's staff": testing.make_supplier()[1],
        "shopkeeper": shop.owner,
        "operator": operator,
        "plain user": testing.make_user(),
    }[who]
    sku = product.skus.get()

    response = api(caller).post(f"/skus/{sku.id}/stock", {"delta": 5})

    assert response.status_code == 403
    assert error(response)["code"] == "not_supplier_staff"
    sku.refresh_from_db()
    assert sku.stock == 100


@pytest.mark.parametrize("sku_id", ["999999", "99999999999999999999"])
def test_adjusting_an_unknown_sku_is_a_404(api, supplier_pair, sku_id):
    _, staff = supplier_pair

    response = api(staff).post(f"/skus/{sku_id}/stock", {"delta": 1})

    assert response.status_code == 404
    assert error(response)["code"] == "not_found"


@pytest.mark.parametrize("payload", [{}, {"delta": "many"}, {"delta": 1.5}, {"delta": 10**9 + 1}])
def test_adjust_stock_refuses_bad_input(api, supplier_pair, product, payload):
    _, staff = supplier_pair
    sku = product.skus.get()

    response = api(staff).post(f"/skus/{sku.id}/stock", payload)

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"


def test_stock_cannot_grow_past_what_the_database_holds(api, supplier_pair, product):
    # given stock near the top of a 32-bit integer column
    _, staff = supplier_pair
    sku = product.skus.get()
    client = api(staff)
    client.post(f"/skus/{sku.id}/stock", {"delta": 10**9})
    client.post(f"/skus/{sku.id}/stock", {"delta": 10**9})

    # when more is added than fits
    response = client.post(f"/skus/{sku.id}/stock", {"delta": 10**9})

    # then it is refused as a conflict, not a database error
    assert response.status_code == 409
    assert error(response)["code"] == "stock_limit"
    sku.refresh_from_db()
    assert sku.stock == 2 * 10**9 + 100
