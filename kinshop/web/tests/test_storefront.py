from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.catalog import services as catalog
from kinshop.shops import services as shops
from kinshop.shops.models import SelectionPrice

pytestmark = pytest.mark.django_db


def test_the_home_page_and_the_storefront_answer(shop):
    assert Client().get("/").status_code == 200
    page = Client().get("/shop/nutshop/")
    assert page.status_code == 200
    assert 'data-testid="share"' in page.content.decode()


def test_an_unknown_shop_or_product_is_404(shop, product):
    assert Client().get("/shop/nobody/").status_code == 404
    assert Client().get(f"/shop/nobody/p/{product.id}/").status_code == 404
    assert Client().get("/shop/nutshop/p/999999/").status_code == 404


def test_the_product_page_offers_each_sku_to_choose(shop, product):
    sku = product.skus.get()

    page = Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()

    assert f'data-testid="sku-{sku.id}"' in page
    assert 'name="quantity"' in page
    assert 'data-testid="add-to-cart"' in page and 'data-testid="buy-now"' in page
    assert 'data-testid="verified-badge"' in page
    assert "¥99.00" in page


def test_a_sold_out_sku_cannot_be_chosen(supplier_pair):
    _, staff = supplier_pair
    product = testing.make_product(
        staff=staff,
        skus=[
            {"code": "A", "name": "大包", "supply_price": 6000, "retail_min": 8000,
             "retail_max": 12000, "suggested_retail_price": 9900, "stock": 0},
            {"code": "B", "name": "小包", "supply_price": 3000, "retail_min": 4000,
             "retail_max": 6000, "suggested_retail_price": 5000, "stock": 5},
        ],
    )  # fmt: skip
    testing.make_shop(handle="twoskus", products=[product])
    sold_out, in_stock = product.skus.order_by("code")

    page = Client().get(f"/shop/twoskus/p/{product.id}/").content.decode()

    assert f'value="{sold_out.id}" data-testid="sku-{sold_out.id}" disabled' in page
    assert f'value="{in_stock.id}" data-testid="sku-{in_stock.id}" checked' in page


def test_the_product_page_names_the_friend_who_shared_it(shop, product):
    sharer = testing.make_user("amei", display_name="阿梅")
    from kinshop.sharing import services as sharing

    link = sharing.create_share_link(sharer=sharer, shop=shop, product=product)
    browser = Client()
    browser.get(f"/s/{link.code}")

    page = browser.get(f"/shop/nutshop/p/{product.id}/").content.decode()

    assert "来自 阿梅 的分享" in page


def _queries(path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(path).status_code == 200
    return len(queries)


def test_the_storefront_makes_as_many_queries_with_50_products_as_with_5(supplier_pair):
    _, staff = supplier_pair
    keeper = testing.make_user("keeper50")
    shop = testing.make_shop(owner=keeper, handle="big")

    def add(count):
        for _ in range(count):
            product = testing.make_product(staff=staff)
            shops.add_selection(user=keeper, shop=shop, product_id=product.id, prices={})

    add(5)
    with_5 = (_queries("/shop/big/"), _queries("/"))
    add(45)

    assert (_queries("/shop/big/"), _queries("/")) == with_5


# the cached product grid and product details ---------------------------------------------


def test_a_cached_storefront_and_product_page_cost_one_query(shop, product):
    # given each page was seen once (rendered and kept)
    _queries("/shop/nutshop/")
    _queries(f"/shop/nutshop/p/{product.id}/")
    # then the next visitors cost one query each: the shop and its versions;
    # the product page three more, read per request as seats and units move:
    # its SKUs' group buys on now, flash sales not ended and pre-sales still
    # open (none here)
    assert _queries("/shop/nutshop/") == 1
    assert _queries(f"/shop/nutshop/p/{product.id}/") == 4


def test_a_new_price_shows_at_once(shop, product):
    sku = product.skus.get()
    assert "¥99.00" in Client().get("/shop/nutshop/").content.decode()
    assert "¥99.00" in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()

    shops.add_selection(user=shop.owner, shop=shop, product_id=product.id, prices={sku.id: 10500})

    assert "¥105.00" in Client().get("/shop/nutshop/").content.decode()
    assert "¥105.00" in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()


def test_a_sku_selling_out_shows_at_once(shop, product, supplier_pair):
    _, staff = supplier_pair
    sku = product.skus.get()
    assert (
        'data-testid="add-to-cart"'
        in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    )

    catalog.adjust_stock(user=staff, sku_id=sku.id, delta=-sku.stock)

    page = Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    assert 'data-testid="add-to-cart"' not in page
    assert "已售罄" in Client().get("/shop/nutshop/").content.decode()


def test_the_language_is_part_of_the_key(shop, product):
    assert "在售" in Client().get("/shop/nutshop/").content.decode()
    english = Client(headers={"accept-language": "en"}).get("/shop/nutshop/").content.decode()
    assert "On sale" in english and "Sold out" not in english


def test_a_stale_page_never_sets_the_price_charged(shop, product):
    # given the product page was cached at ¥99.00
    sku = product.skus.get()
    Client().get(f"/shop/nutshop/p/{product.id}/")
    # when the price changes behind the cache's back (no service bumped the version)
    SelectionPrice.objects.filter(shop=shop, sku=sku).update(retail_price=11000)
    assert "¥99.00" in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    # then an order is still priced from the database
    buyer = testing.make_user("pricecheck")
    order = testing.ApiClient(buyer).post(
        "/orders",
        {
            "shop": "nutshop",
            "lines": [{"sku_id": sku.id, "quantity": 2}],
            "address": {"name": "王", "phone": "13800138000", "region": "杭州", "detail": "1 号"},
        },
    )
    assert order.status_code == 201, order.json()
    assert (order.json()["total"], order.json()["lines"][0]["unit_price"]) == (22000, 11000)
