from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.sharing import services
from kinshop.sharing.models import Click, ShareLink
from kinshop.sharing.tests.conftest import make_order

pytestmark = pytest.mark.django_db


def test_create_share_link_for_a_product(api, sharer, shop, product):
    response = api(sharer).post("/share-links", {"shop": "nutshop", "product_id": product.id})

    assert response.status_code == 201, response.json()
    body = response.json()
    link = ShareLink.objects.get(code=body["code"])
    assert (link.sharer_id, link.shop_id, link.product_id) == (sharer.id, shop.id, product.id)
    assert body["url"].endswith(f"/s/{link.code}")
    assert body["poster_url"] == f"/api/v1/share-links/{link.code}/poster.png"
    again = api(sharer).post("/share-links", {"shop": "nutshop", "product_id": product.id})
    assert again.json()["code"] == link.code


def test_anyone_signed_in_may_share_a_shop_even_its_keeper(api, shop):
    response = api(shop.owner).post("/share-links", {"shop": "nutshop"})

    assert response.status_code == 201
    assert ShareLink.objects.get(code=response.json()["code"]).target == "shop"


def test_create_share_link_refusals(api, sharer, shop, supplier_pair):
    other = testing.make_product(staff=supplier_pair[1])

    anonymous = api().post("/share-links", {"shop": "nutshop"})
    unknown_shop = api(sharer).post("/share-links", {"shop": "nowhere"})
    not_sold = api(sharer).post("/share-links", {"shop": "nutshop", "product_id": other.id})
    malformed = api(sharer).post("/share-links", {"product_id": "x"})

    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "not_authenticated")
    assert (unknown_shop.status_code, unknown_shop.json()["code"]) == (404, "shop_not_found")
    assert (not_sold.status_code, not_sold.json()["code"]) == (422, "product_not_in_shop")
    assert malformed.status_code == 422
    assert ShareLink.objects.count() == 0


def test_get_share_link_is_public(api, sharer, shop, product):
    sharer.display_name = "小王"
    sharer.save()
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)

    response = api().get(f"/share-links/{link.code}")

    assert response.status_code == 200
    body = response.json()
    assert (body["shop"], body["product_id"], body["sharer"], body["target"]) == (
        "nutshop",
        product.id,
        "小王",
        "product",
    )
    missing = api().get("/share-links/bcdfg23456")
    assert (missing.status_code, missing.json()["code"]) == (404, "share_link_not_found")


def test_record_click(api, sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)

    response = api(buyer).post(f"/share-links/{link.code}/clicks", {"channel": "live"})
    default = api(buyer).post(f"/share-links/{link.code}/clicks")

    assert response.status_code == 201, response.json()
    assert response.json()["channel"] == "live"
    assert default.json()["channel"] == "link"
    click = Click.objects.get(pk=response.json()["id"])
    assert (click.viewer_id, click.sharer_id, click.channel) == (buyer.id, sharer.id, "live")


def test_record_click_refusals(api, sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)

    anonymous = api().post(f"/share-links/{link.code}/clicks", {"channel": "qr"})
    unknown = api(buyer).post("/share-links/bcdfg23456/clicks", {"channel": "qr"})
    bad_channel = api(buyer).post(f"/share-links/{link.code}/clicks", {"channel": "email"})

    assert anonymous.status_code == 401
    assert (unknown.status_code, unknown.json()["code"]) == (404, "share_link_not_found")
    assert (bad_channel.status_code, bad_channel.json()["code"]) == (422, "invalid_channel")
    assert Click.objects.count() == 0


def test_list_my_shares(api, sharer, shop, buyer, product):
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    services.create_share_link(sharer=sharer, shop=shop)
    click = services.record_click(code=link.code, viewer=buyer)
    make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=click)

    response = api(sharer).get("/me/shares", limit=1, offset=1)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["items"] == [
        {
            "code": link.code,
            "url": body["items"][0]["url"],
            "poster_url": f"/api/v1/share-links/{link.code}/poster.png",
            "shop": "nutshop",
            "product_id": product.id,
            "clicks": 1,
            "orders": 1,
            "commission": 990,
            "currency": "CNY",
        }
    ]
    assert api(buyer).get("/me/shares").json() == {"items": [], "count": 0}
    assert api().get("/me/shares").status_code == 401


def test_list_my_shares_query_count_does_not_grow(api, sharer, shop, buyer, product):
    client = api(sharer)
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)

    def newest_link_orders():
        with testing.assert_query_count(3):
            response = client.get("/me/shares")
        return response.json()["items"][0]["orders"]

    click = services.record_click(code=link.code, viewer=buyer)
    make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=click)
    few = newest_link_orders()
    for _ in range(15):
        click = services.record_click(code=link.code, viewer=buyer)
        make_order(buyer=buyer, shop=shop, product=product, beneficiary=sharer, click=click)
    services.create_share_link(sharer=sharer, shop=shop)
    many = newest_link_orders()

    assert (few, many) == (1, 0)  # the newest link, the shop's, is first


def test_poster_endpoint_serves_a_png(api, sharer, shop, product):
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)

    response = api().get(f"/share-links/{link.code}/poster.png")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert api().get("/share-links/bcdfg23456/poster.png").status_code == 404


def test_operation_ids_are_in_the_contract(api):
    schema = api().get("/openapi.json").json()
    operations = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
    }

    assert {"create_share_link", "record_click", "list_my_shares", "get_share_link"} <= operations
