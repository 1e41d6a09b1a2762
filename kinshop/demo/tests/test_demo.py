from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from kinshop import testing
from kinshop.accounts.models import User
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog import services as catalog
from kinshop.catalog.models import SKU, Product, ProductImage, Supplier
from kinshop.demo import data
from kinshop.demo.seed import seed
from kinshop.shops.models import Selection, SelectionPrice, Shop


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Argon2 is deliberately slow; these tests create a dozen accounts per run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _counts() -> dict[str, int]:
    models = [User, Supplier, Product, SKU, ProductImage, Shop, Selection, SelectionPrice]
    return {model.__name__: model.objects.count() for model in models}


def test_every_band_leaves_a_margin_with_a_two_percent_fee():
    for product in data.all_products().values():
        assert 500 <= product.commission_rate_bp <= 2000
        assert 1 <= len(product.skus) <= 3
        for sku in product.skus:
            assert sku.supply_price < sku.retail_min <= sku.suggested_retail_price <= sku.retail_max
            assert 20 <= sku.stock <= 500
            for fee_bp in (0, data.FEE_HEADROOM_BP):
                assert catalog_rules.margin_is_covered(
                    price=sku.retail_min,
                    supply_price=sku.supply_price,
                    commission_bp=product.commission_rate_bp,
                    fee_bp=fee_bp,
                ), sku.code


@pytest.mark.django_db
def test_seed_twice_creates_everything_once():
    # when
    assert seed() is True
    first = _counts()
    assert seed() is False
    # then
    assert _counts() == first
    assert first["Supplier"] == 3
    assert Supplier.objects.filter(status=Supplier.Status.VERIFIED).count() == 3
    assert first["Product"] == 20
    assert first["ProductImage"] == 20
    assert first["Shop"] == 5
    assert first["User"] == 1 + 3 + 5 + 3
    operator = User.objects.get(username=data.OPERATOR_USERNAME)
    assert operator.is_staff and operator.is_superuser
    assert all(shop.avatar for shop in Shop.objects.all())
    assert sorted((shop.handle, shop.selections.count()) for shop in Shop.objects.all()) == [
        ("acha-tea", 7),
        ("dorm-zhou", 5),
        ("hangzhou-mama", 8),
        ("teacher-wang", 6),
        ("xiaolu-skin", 7),
    ]


@pytest.mark.django_db
def test_demo_command_prints_the_logins():
    out = StringIO()
    call_command("demo", "--no-serve", stdout=out)
    text = out.getvalue()
    assert "Demo data created." in text
    for login in data.logins():
        assert login.username in text
    assert data.PASSWORD in text
    assert "http://127.0.0.1:8000/shop/hangzhou-mama/" in text
    assert "http://127.0.0.1:8000/admin/" in text
    # a second run changes nothing and still prints the logins, at the address asked for
    again = StringIO()
    call_command("demo", "--no-serve", "--addrport", "127.0.0.1:8011", stdout=again)
    assert "already there" in again.getvalue()
    assert "http://127.0.0.1:8011/shop/acha-tea/" in again.getvalue()


@pytest.mark.django_db
def test_storefront_query_count_does_not_grow_with_products(client):
    # given two shops, one with 2 products and one with 12, each with several SKUs and an image
    _, staff = testing.make_supplier()
    products = []
    for number in range(12):
        product = testing.make_product(
            staff=staff,
            skus=[
                {
                    "code": testing.unique("Q-"),
                    "name": name,
                    "supply_price": 6000,
                    "retail_min": 8000,
                    "retail_max": 12000,
                    "suggested_retail_price": 9900,
                    "stock": 3 if number % 2 else 100,
                }
                for name in ("250 g", "500 g")
            ],
        )
        catalog.add_product_image(product=product, filename="p.jpg", content=b"not-a-real-jpeg")
        products.append(product)
    small = testing.make_shop(handle="small-shop", products=products[:2])
    large = testing.make_shop(handle="large-shop", products=products)

    # when each is seen first (its versions, the shop, 3 for its grid, 8 for its
    # trust card, which is then kept per storefront version for five minutes:
    # none grow with products), then again (kept: no query)
    with testing.assert_query_count(13):
        small_page = client.get(f"/shop/{small.handle}/")
    with testing.assert_query_count(13):
        response = client.get(f"/shop/{large.handle}/")
    with testing.assert_query_count(0):
        client.get(f"/shop/{large.handle}/")

    # then
    assert small_page.status_code == response.status_code == 200
    assert small_page.content.decode().count('class="product-card"') == 2
    assert response.content.decode().count('class="product-card"') == 12
