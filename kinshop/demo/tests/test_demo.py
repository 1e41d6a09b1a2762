from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils.html import escape

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
    for shop in Shop.objects.all():
        assert 4 <= shop.selections.count() <= 10


@pytest.mark.django_db
def test_every_selected_price_is_inside_its_band():
    seed()
    prices = SelectionPrice.objects.select_related("sku")
    assert prices.count() > 0
    for price in prices:
        assert price.sku.retail_min <= price.retail_price <= price.sku.retail_max
    # every SKU of every selected product is priced
    for selection in Selection.objects.prefetch_related("prices", "product__skus"):
        assert {p.sku_id for p in selection.prices.all()} == {
            s.id for s in selection.product.skus.all()
        }


@pytest.mark.django_db
def test_every_demo_login_works_with_the_demo_password():
    seed()
    for login in data.logins():
        user = User.objects.get(username=login.username)
        assert user.check_password(data.PASSWORD), login.username
        assert user.display_name == login.display_name


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
def test_home_storefront_and_product_pages_show_the_demo(client):
    seed()
    home = client.get("/")
    assert home.status_code == 200
    for shop_data in data.SHOPS:
        assert escape(shop_data.name) in home.content.decode()

    shop = Shop.objects.get(handle="hangzhou-mama")
    page = client.get(f"/shop/{shop.handle}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "林妈妈零食铺" in html
    for selection in shop.selections.select_related("product"):
        assert escape(selection.product.title) in html

    product = Product.objects.get(title__startswith="临安手剥山核桃")
    detail = client.get(f"/shop/{shop.handle}/p/{product.id}/")
    assert detail.status_code == 200
    html = detail.content.decode()
    assert escape(product.title) in html
    for sku in product.skus.all():
        assert escape(sku.name) in html
    assert "¥89.00" in html  # Mama Lin sells at the suggested price


@pytest.mark.django_db
def test_pages_speak_chinese_by_default_and_english_on_request(client):
    seed()
    product = Product.objects.get(title__startswith="临安手剥山核桃")
    url = f"/shop/hangzhou-mama/p/{product.id}/"
    chinese = client.get(url).content.decode()
    assert "有货" in chinese and "认证供应商" in chinese
    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "In stock" in english and "Verified supplier" in english


@pytest.mark.django_db
def test_product_page_of_a_product_the_shop_does_not_sell_is_not_found(client):
    seed()
    tea = Product.objects.get(title__startswith="安吉白茶 明前特级")
    assert client.get(f"/shop/xiaolu-skin/p/{tea.id}/").status_code == 404
    assert client.get("/shop/no-such-shop/").status_code == 404


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

    # when
    with testing.assert_query_count(4):
        small_page = client.get(f"/shop/{small.handle}/")
    with testing.assert_query_count(4):
        response = client.get(f"/shop/{large.handle}/")

    # then
    assert small_page.status_code == response.status_code == 200
    assert small_page.content.decode().count('class="product-card"') == 2
    assert response.content.decode().count('class="product-card"') == 12


@pytest.mark.django_db
def test_the_demo_story_shows_every_status_and_a_healthy_ledger():
    from kinshop.ledger import queries as ledger_queries
    from kinshop.ledger.models import Withdrawal
    from kinshop.orders.models import Order, Refund
    from kinshop.payments.models import Payment
    from kinshop.sharing.models import Click, ShareLink

    # when
    seed()

    # then every order status is on show, each reached through the services
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {choice.value for choice in Order.Status}
    assert ledger_queries.health()["balanced"]
    # a full refund, a partial one, and one awaiting the supplier
    assert Order.objects.filter(status=Order.Status.REFUNDED).exists()
    partial = Order.objects.filter(refunded_amount__gt=0).exclude(status=Order.Status.REFUNDED)
    assert partial.exists()
    assert Refund.objects.filter(status=Refund.Status.REQUESTED).exists()
    # an offline payment the supplier has not confirmed yet, on an order still awaiting payment
    offline = Payment.objects.get(provider="offline")
    assert offline.status == Payment.Status.PENDING
    assert offline.order.status == Order.Status.PENDING_PAYMENT
    # settled and unsettled completed orders
    completed = Order.objects.filter(status=Order.Status.COMPLETED)
    assert completed.filter(lines__settlement__isnull=False).exists()
    assert completed.filter(lines__settlement__isnull=True).exists()
    # sharers shared, strangers and buyers clicked
    assert ShareLink.objects.count() >= len(data.SHARES)
    assert Click.objects.filter(viewer__isnull=True).count() > 20
    assert Click.objects.filter(viewer__isnull=False).count() > 5
    # at least two sharers with money both pending and available
    both = [
        username
        for username in ("xiaomei", "laozhang", "amy-li")
        if (wallet := ledger_queries.wallet(User.objects.get(username=username)))["pending"] > 0
        and wallet["available"] > 0
    ]
    assert len(both) >= 2, both
    # a verified sharer withdrew: one paid out, one awaiting the operator
    assert set(Withdrawal.objects.values_list("status", flat=True)) == {
        Withdrawal.Status.PAID_OUT,
        Withdrawal.Status.REQUESTED,
    }
    # the browser journey's sharer only has settled money, so its wallet moves by
    # exactly the journey's commission when the jobs run with zero-day windows
    amy = ledger_queries.wallet(User.objects.get(username="amy-li"))
    assert amy["pending"] == 0 and amy["available"] > 0


@pytest.mark.django_db
def test_the_demo_story_is_deterministic_in_money():
    from kinshop.ledger import queries as ledger_queries

    seed()
    wallets = {
        username: ledger_queries.wallet(User.objects.get(username=username))
        for username in ("xiaomei", "laozhang", "amy-li")
    }
    assert wallets["xiaomei"]["paid_out"] == 2000
    assert wallets["xiaomei"]["held"] == 1500
    assert all(wallet["debt"] == 0 for wallet in wallets.values())
