from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.catalog import services as catalog
from kinshop.core import clock
from kinshop.shops import services as shops
from kinshop.shops.models import SelectionPrice
from kinshop.web import trust_cards
from kinshop.web.tests.helpers import running_flash_sale

pytestmark = pytest.mark.django_db


def test_the_home_page_and_the_storefront_answer(shop):
    assert Client().get("/").status_code == 200
    page = Client().get("/shop/nutshop/")
    assert page.status_code == 200
    assert 'data-testid="share"' in page.content.decode()


def test_an_unknown_shop_or_product_is_404(shop, product):
    assert Client().get("/shop/nobody/").status_code == 404
    assert _queries_of_404("/shop/" + "x" * 31 + "/") == 0  # longer than any handle
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


def _queries_of_404(path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert Client().get(path).status_code == 404
    return len(queries)


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


# the kept storefront and the cached product details -----------------------------------


@contextlib.contextmanager
def _after_the_recheck():
    """As if the storefront's versions were due to be read again (settings:
    KINSHOP_STOREFRONT_RECHECK_SECONDS)."""
    with clock.travel(dt.timedelta(seconds=settings.KINSHOP_STOREFRONT_RECHECK_SECONDS + 1)):
        yield


def test_a_kept_storefront_costs_no_query_then_one_per_recheck(shop, product):
    # given the storefront was seen once: its versions, the shop, its
    # selections with their prices and images (3), and its trust card's eight
    # signals
    assert _queries("/shop/nutshop/") == 1 + 1 + 3 + 8
    # then the next visitors cost no query until its versions are due to be
    # read again; then one, the versions, and none again after that
    assert _queries("/shop/nutshop/") == 0
    with _after_the_recheck():
        assert _queries("/shop/nutshop/") == 1
        assert _queries("/shop/nutshop/") == 0


def test_with_no_recheck_every_storefront_reads_its_versions(shop, product, settings):
    settings.KINSHOP_STOREFRONT_RECHECK_SECONDS = 0
    _queries("/shop/nutshop/")
    assert _queries("/shop/nutshop/") == 1


def test_a_cached_product_page_costs_four_queries(shop, product):
    _queries(f"/shop/nutshop/p/{product.id}/")
    # the shop and its versions; then, read per request as seats and units move:
    # its SKUs' group buys on now, flash sales not ended and pre-sales still
    # open (none here)
    assert _queries(f"/shop/nutshop/p/{product.id}/") == 4


def test_a_new_price_shows_at_once(shop, product):
    sku = product.skus.get()
    assert "¥99.00" in Client().get("/shop/nutshop/").content.decode()
    assert "¥99.00" in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()

    shops.add_selection(user=shop.owner, shop=shop, product_id=product.id, prices={sku.id: 10500})
    testing.commit()

    assert "¥105.00" in Client().get("/shop/nutshop/").content.decode()
    assert "¥105.00" in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()


def test_a_product_taken_off_the_shop_leaves_its_storefront_at_once(shop, product):
    assert (
        f'href="/shop/nutshop/p/{product.id}/"' in Client().get("/shop/nutshop/").content.decode()
    )

    shops.remove_selection(user=shop.owner, shop=shop, product_id=product.id)
    testing.commit()

    page = Client().get("/shop/nutshop/").content.decode()
    assert f'href="/shop/nutshop/p/{product.id}/"' not in page
    assert "0 件商品" in page and "店主还没有选品。" in page


def test_a_new_shop_name_shows_at_once(shop, product):
    assert "Nut Corner" not in Client().get("/shop/nutshop/").content.decode()

    shops.update_shop(user=shop.owner, shop=shop, name="Nut Corner")
    testing.commit()

    assert "Nut Corner" in Client().get("/shop/nutshop/").content.decode()


def test_a_sku_selling_out_shows_on_its_page_and_its_storefront_at_once(
    shop, product, supplier_pair
):
    _, staff = supplier_pair
    sku = product.skus.get()
    testing.commit()  # the shop's own changes are behind it: none forgets its versions later
    assert (
        'data-testid="add-to-cart"'
        in Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    )
    assert "已售罄" not in Client().get("/shop/nutshop/").content.decode()

    # when the supplier's stock runs out (a change of the catalog, which does
    # not know the shops that sell the product)
    catalog.adjust_stock(user=staff, sku_id=sku.id, delta=-sku.stock)
    testing.commit()

    page = Client().get(f"/shop/nutshop/p/{product.id}/").content.decode()
    assert 'data-testid="add-to-cart"' not in page
    # then the storefront, kept with its versions, saw the catalog's change count
    assert "已售罄" in Client().get("/shop/nutshop/").content.decode()


def test_a_change_elsewhere_in_the_catalog_costs_a_kept_storefront_one_recheck(
    shop, product, supplier_pair
):
    _, staff = supplier_pair
    other = testing.make_product(staff=staff)
    _queries("/shop/nutshop/")
    assert _queries("/shop/nutshop/") == 0
    # when a product no shop of this page sells sells out
    catalog.adjust_stock(user=staff, sku_id=other.skus.get().id, delta=-other.skus.get().stock)
    testing.commit()
    # then the storefront reads its versions once, finds them the same, and is kept again
    assert _queries("/shop/nutshop/") == 1
    assert _queries("/shop/nutshop/") == 0


def test_without_a_recheck_interval_a_sku_selling_out_shows_at_once(
    shop, product, supplier_pair, settings
):
    settings.KINSHOP_STOREFRONT_RECHECK_SECONDS = 0
    _, staff = supplier_pair
    sku = product.skus.get()
    assert "已售罄" not in Client().get("/shop/nutshop/").content.decode()

    catalog.adjust_stock(user=staff, sku_id=sku.id, delta=-sku.stock)

    assert "已售罄" in Client().get("/shop/nutshop/").content.decode()


def test_a_flash_sale_starting_shows_on_a_cached_product_page(shop, product):
    sku = product.skus.get()
    page = f"/shop/nutshop/p/{product.id}/"
    assert 'data-testid="campaigns"' not in Client().get(page).content.decode()

    sale = running_flash_sale(shop=shop, sku=sku)
    testing.commit()

    shown = Client().get(page).content.decode()
    assert 'data-testid="campaigns"' in shown and f'href="/flash-sales/{sale.pk}/"' in shown


def test_the_kept_storefront_lives_no_longer_than_its_trust_card(shop, product):
    _queries("/shop/nutshop/")
    assert _queries("/shop/nutshop/") == 0
    # when the trust card has been shown for as long as it may be
    with clock.travel(dt.timedelta(seconds=trust_cards.CARD_SECONDS)):
        # then the page is rendered anew with the card read anew: the versions,
        # the shop and the card's eight signals (the product grid is still kept)
        assert _queries("/shop/nutshop/") == 1 + 1 + 8
        assert _queries("/shop/nutshop/") == 0


def test_the_kept_storefront_keeps_nothing_of_the_viewer_who_caused_it(shop, product):
    # given a signed-in buyer with a unit in the cart is the first to see it
    buyer = testing.make_user("firstviewer", display_name="头一个")
    first = Client()
    first.force_login(buyer)
    added = first.post(
        "/cart/add/", {"shop": "nutshop", "sku": product.skus.get().id, "quantity": "2"}
    )
    assert added.status_code == 302
    page = first.get("/shop/nutshop/").content.decode()
    assert "头一个" in page and 'data-testid="cart-count">2<' in page
    assert 'data-testid="sign-out"' in page
    # then the next visitor sees their own parts only
    anonymous = Client()
    page = anonymous.get("/shop/nutshop/?from=poster").content.decode()
    assert "头一个" not in page and 'data-testid="cart-count"' not in page
    assert 'data-testid="nav-sign-in"' in page
    assert "?next=/shop/nutshop/%3Ffrom%3Dposter" in page
    assert 'name="next" value="/shop/nutshop/?from=poster"' in page
    # and their own CSRF token, which the language form accepts
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert f'"X-CSRFToken": "{token}"' in page
    switched = anonymous.post(
        "/i18n/setlang/",
        {"csrfmiddlewaretoken": token, "language": "en", "next": "/shop/nutshop/"},
    )
    assert switched.status_code == 302
    assert "On sale" in anonymous.get("/shop/nutshop/").content.decode()


def test_the_storefront_names_the_friend_who_shared_it(shop):
    sharer = testing.make_user("amei2", display_name="阿梅")
    from kinshop.sharing import services as sharing

    link = sharing.create_share_link(sharer=sharer, shop=shop)
    friend = Client()
    friend.get(f"/s/{link.code}")

    assert "来自 阿梅 的分享" in friend.get("/shop/nutshop/").content.decode()
    assert "来自 阿梅 的分享" not in Client().get("/shop/nutshop/").content.decode()


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
