"""The demo story, seeded once for the whole module (it takes seconds): every
test reads it inside its own savepoint, rolled back after it."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils.html import escape

from kinshop.accounts.models import User
from kinshop.catalog.models import Product
from kinshop.demo import data
from kinshop.demo.seed import seed
from kinshop.shops.models import Selection, SelectionPrice, Shop

# one worker seeds once; tests elsewhere must not see the demo data
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("demo-story")]


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, seeded in a transaction that is rolled back after the module;
    pytest-django's per-test transaction becomes a savepoint inside it."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            MEDIA_ROOT=tmp_path_factory.getbasetemp() / "media",
            KINSHOP_PAYMENT_SANDBOX=True,
            KINSHOP_PLATFORM_FEE_BP=0,
        ),
        transaction.atomic(),
    ):
        assert seed() is True
        yield
        transaction.set_rollback(True)


def test_every_selected_price_is_inside_its_band():
    prices = SelectionPrice.objects.select_related("sku")
    assert prices.count() == 61
    for price in prices:
        assert price.sku.retail_min <= price.retail_price <= price.sku.retail_max
    # every SKU of every selected product is priced
    for selection in Selection.objects.prefetch_related("prices", "product__skus"):
        assert {p.sku_id for p in selection.prices.all()} == {
            s.id for s in selection.product.skus.all()
        }


def test_every_demo_login_works_with_the_demo_password():
    for login in data.logins():
        user = User.objects.get(username=login.username)
        assert user.check_password(data.PASSWORD), login.username
        assert user.display_name == login.display_name


def test_home_storefront_and_product_pages_show_the_demo(client):
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


def test_pages_speak_chinese_by_default_and_english_on_request(client):
    product = Product.objects.get(title__startswith="临安手剥山核桃")
    url = f"/shop/hangzhou-mama/p/{product.id}/"
    chinese = client.get(url).content.decode()
    assert "有货" in chinese and "认证供应商" in chinese
    english = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "In stock" in english and "Verified supplier" in english


def test_product_page_of_a_product_the_shop_does_not_sell_is_not_found(client):
    tea = Product.objects.get(title__startswith="安吉白茶 明前特级")
    assert client.get(f"/shop/xiaolu-skin/p/{tea.id}/").status_code == 404
    assert client.get("/shop/no-such-shop/").status_code == 404


def test_the_demo_story_shows_every_status_and_a_healthy_ledger():
    from kinshop.ledger import queries as ledger_queries
    from kinshop.ledger.models import Withdrawal
    from kinshop.orders.models import Order, Refund
    from kinshop.payments.models import Payment
    from kinshop.sharing.models import Click, ShareLink

    # when

    # then every order status is on show, each reached through the services
    statuses = set(Order.objects.values_list("status", flat=True))
    assert statuses == {choice.value for choice in Order.Status}
    consumer_orders = Order.objects.filter(is_wholesale=False)
    assert Counter(consumer_orders.values_list("status", flat=True)) == {
        "pending_payment": 2,
        "awaiting_balance": 1,  # a pre-sale's deposit is in
        "paid": 5,  # one of them bought in the live room
        "shipped": 2,
        "completed": 10,
        "refunded": 1,
        "cancelled": 1,
    }
    assert ledger_queries.health()["balanced"]
    # a full refund, a partial one, and one awaiting the supplier
    partial = Order.objects.filter(refunded_amount__gt=0).exclude(status=Order.Status.REFUNDED)
    assert partial.count() == 1
    assert Refund.objects.filter(status=Refund.Status.REQUESTED).count() == 1
    # an offline payment the supplier has not confirmed yet, on an order still awaiting payment
    offline = Payment.objects.get(provider="offline")
    assert offline.status == Payment.Status.PENDING
    assert offline.order.status == Order.Status.PENDING_PAYMENT
    # settled and unsettled completed orders
    completed = consumer_orders.filter(status=Order.Status.COMPLETED)
    assert completed.filter(lines__settlement__isnull=False).distinct().count() == 6
    assert completed.filter(lines__settlement__isnull=True).distinct().count() == 4
    # two keepers bought stock wholesale, received it and sold part of it offline
    wholesale_orders = Order.objects.filter(is_wholesale=True)
    assert Counter(wholesale_orders.values_list("status", flat=True)) == {
        "completed": 1,
        "shipped": 1,
    }
    assert not wholesale_orders.filter(lines__commission_beneficiary__isnull=False).exists()
    from kinshop.wholesale import queries as wholesale_queries

    acha = wholesale_queries.holding_rows(shop_id=Shop.objects.get(handle="acha-tea").id, floor=50)
    assert [(row.counts.bought, row.counts.sold_offline, row.counts.held) for row in acha] == [
        (40, 28, 12)
    ]
    reach = ledger_queries.compliance_report()
    assert 0 < reach["retail_reach_rate"] < 1
    assert reach["wholesale_units_held"] == 12 + 24
    # sharers shared, strangers and buyers clicked
    # (and Xiaomei shared the live room, which brought Lao Zhang: his click on
    # her link, and the click his order in the room recorded)
    assert ShareLink.objects.count() == len(data.SHARES) + 1 == 17
    assert Click.objects.filter(viewer__isnull=True).count() == 83
    assert Click.objects.filter(viewer__isnull=False).count() == 13 + 2
    # two sharers with money both pending and available
    both = [
        username
        for username in ("xiaomei", "laozhang", "amy-li")
        if (wallet := ledger_queries.wallet(User.objects.get(username=username)))["pending"] > 0
        and wallet["available"] > 0
    ]
    assert both == ["xiaomei", "laozhang"]
    # a verified sharer withdrew: one paid out, one awaiting the operator
    assert set(Withdrawal.objects.values_list("status", flat=True)) == {
        Withdrawal.Status.PAID_OUT,
        Withdrawal.Status.REQUESTED,
    }
    # the browser journey's sharer only has settled money, so its wallet moves by
    # exactly the journey's commission when the jobs run with zero-day windows
    amy = ledger_queries.wallet(User.objects.get(username="amy-li"))
    assert (amy["pending"], amy["available"]) == (0, 4365)


def test_the_demo_story_is_deterministic_in_money():
    from kinshop.ledger import queries as ledger_queries

    wallets = {
        username: ledger_queries.wallet(User.objects.get(username=username))
        for username in ("xiaomei", "laozhang", "amy-li")
    }
    fields = ("pending", "available", "withdrawal_requested", "paid_out", "debt")
    assert {name: tuple(wallet[f] for f in fields) for name, wallet in wallets.items()} == {
        # 980 of it: 10 % of Lao Zhang's 2 × 49.00 bought in the live room she shared
        "xiaomei": (6846, 1142, 1500, 2000, 0),
        "laozhang": (6596, 2502, 0, 0, 0),
        "amy-li": (0, 4365, 0, 0, 0),
    }
