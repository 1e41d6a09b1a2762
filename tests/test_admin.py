"""The operator's console: the themed admin, its ledger health and compliance
cards, and the withdrawal and refund actions."""

from __future__ import annotations

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger import services as ledger
from kinshop.ledger.models import Withdrawal
from kinshop.orders import services as orders
from kinshop.orders.models import Refund
from kinshop.payments import services as payments
from kinshop.web.tests.helpers import place_paid_order, settled_commission

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(db):
    return testing.make_user("chief_operator", is_staff=True, is_superuser=True)


def test_admin_index_shows_ledger_health_and_compliance(client, superuser, shop, product):
    settled_commission(shop, product, testing.make_user())
    client.force_login(superuser)
    response = client.get("/admin/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Kinshop 运营后台" in html
    assert 'data-testid="ledger-health"' in html
    assert 'data-testid="ledger-balanced">是<' in html
    health = ledger_queries.health()
    assert f"<td>{health['entries']}</td>" in html
    assert 'data-testid="compliance-report"' in html
    assert "100.0%" in html  # retail reach rate


def test_admin_is_closed_to_non_operators(client):
    client.force_login(testing.make_user())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response.url


def _requested_withdrawal(shop, product) -> Withdrawal:
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    accounts.verify_identity(user=sharer, real_name="王芳", id_number="11010519491231002X")
    with transaction.atomic():
        return ledger.request_withdrawal(user=sharer, amount=1980)


def test_withdrawal_approve_action_pays_out(client, superuser, shop, product):
    withdrawal = _requested_withdrawal(shop, product)
    client.force_login(superuser)
    response = client.post(
        "/admin/ledger/withdrawal/",
        {"action": "approve", "_selected_action": [withdrawal.pk], "index": 0},
        follow=True,
    )
    assert response.status_code == 200
    withdrawal.refresh_from_db()
    assert withdrawal.status == "paid_out"
    wallet = ledger_queries.wallet(withdrawal.user)
    assert (wallet["withdrawal_requested"], wallet["paid_out"], wallet["available"]) == (0, 1980, 0)


def test_withdrawal_reject_action_returns_the_money(client, superuser, shop, product):
    withdrawal = _requested_withdrawal(shop, product)
    client.force_login(superuser)
    client.post(
        "/admin/ledger/withdrawal/",
        {"action": "reject", "_selected_action": [withdrawal.pk], "index": 0},
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == "rejected"
    assert ledger_queries.wallet(withdrawal.user)["available"] == 1980


def test_refund_approve_action(client, superuser, shop, product):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    with transaction.atomic():
        refund = orders.request_refund(
            user=order.buyer, order_id=order.id, amount=order.total, reason="坏了"
        )
    client.force_login(superuser)
    client.post(
        "/admin/orders/refund/",
        {"action": "approve_refunds", "_selected_action": [refund.pk], "index": 0},
    )
    assert Refund.objects.get(pk=refund.pk).status == "succeeded"


def test_refund_reject_action(client, superuser, shop, product):
    order = place_paid_order(shop=shop, sku=product.skus.first())
    with transaction.atomic():
        refund = orders.request_refund(
            user=order.buyer, order_id=order.id, amount=100, reason="坏了"
        )
    client.force_login(superuser)
    client.post(
        "/admin/orders/refund/",
        {"action": "reject_refunds", "_selected_action": [refund.pk], "index": 0},
    )
    assert Refund.objects.get(pk=refund.pk).status == "rejected"


def test_each_lifecycle_shows_its_history_read_only(client, superuser, shop, product):
    # given an order paid and fully refunded, and a withdrawal paid out
    order = place_paid_order(shop=shop, sku=product.skus.first())
    with transaction.atomic():
        refund = orders.request_refund(
            user=order.buyer, order_id=order.id, amount=order.total, reason="坏了"
        )
        payments.approve_refund(user=superuser, refund_id=refund.pk, note="同意")
    withdrawal = _requested_withdrawal(shop, product)
    payment = order.payments.get()
    pages = {
        f"/admin/orders/order/{order.pk}/change/": "fully refunded",
        f"/admin/orders/refund/{refund.pk}/change/": "同意",
        f"/admin/payments/payment/{payment.pk}/change/": "captured",
        f"/admin/payments/providerrefund/{refund.provider_refunds.get().pk}/change/": "坏了",
        f"/admin/ledger/withdrawal/{withdrawal.pk}/change/": "requested",
        f"/admin/catalog/supplier/{product.supplier_id}/change/": "applied",
    }
    client.force_login(superuser)
    for path, reason in pages.items():
        # when the operator opens the object
        response = client.get(path)
        # then its history is there, with nothing to edit or add
        html = response.content.decode()
        assert response.status_code == 200, path
        assert 'id="history-group"' in html, path
        assert reason in html, path
        assert 'name="history-0-reason"' not in html, path  # read only


def test_admin_shows_retail_reach_by_shop_and_supplier_and_the_units_held_longest(
    client, superuser, shop, product, supplier_pair
):
    from kinshop.wholesale import services as wholesale
    from kinshop.wholesale.tests.helpers import pay, ship

    _, staff = supplier_pair
    sku = product.skus.get()
    with transaction.atomic():
        wholesale.set_tiers(user=staff, sku_id=sku.id, tiers=[wholesale.Tier(10, 5500)])
        order = wholesale.place_order(
            user=shop.owner, shop=shop, lines=[wholesale.LineRequest(sku.id, 20)]
        )
    with transaction.atomic():
        pay(order)
    with transaction.atomic():
        ship(order, staff)
        wholesale.record_offline_sale(
            user=shop.owner, shop=shop, sku_id=sku.id, quantity=5, unit_price=9900
        )
    client.force_login(superuser)

    html = client.get("/admin/").content.decode()

    assert 'data-testid="retail-reach-shops"' in html
    assert 'data-testid="retail-reach-suppliers"' in html
    assert 'data-testid="longest-held"' in html
    assert "25.0%" in html  # 5 of 20 units reached a consumer
    assert "<td>15</td>" in html  # held
    holdings = client.get("/admin/wholesale/holding/")
    assert holdings.status_code == 200
    assert '<td class="field-held">15</td>' in holdings.content.decode()
    for page in ("wholesaletier", "offlinesale", "wholesalereturn"):
        assert client.get(f"/admin/wholesale/{page}/").status_code == 200


def test_an_operators_price_change_and_takedown_in_the_admin_show_on_the_storefront_at_once(
    client, superuser, shop, product
):
    from types import SimpleNamespace

    from django.contrib import admin as django_admin
    from django.test import Client, RequestFactory

    from kinshop.catalog.models import Product
    from kinshop.shops.models import SelectionPrice

    testing.commit()
    page = f"/shop/{shop.handle}/"
    assert "¥99.00" in Client().get(page).content.decode()  # kept from now on

    # when the operator changes a retail price in the admin's form
    price = SelectionPrice.objects.get(shop=shop)
    client.force_login(superuser)
    response = client.post(
        f"/admin/shops/selectionprice/{price.pk}/change/",
        {
            "selection": price.selection_id,
            "shop": shop.pk,
            "sku": price.sku_id,
            "retail_price": 11000,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    testing.commit()
    # then the kept storefront shows it at once
    assert "¥110.00" in Client().get(page).content.decode()

    # when the operator takes the product down (the admin saves the product,
    # then its inlines: none changed here)
    product_admin = django_admin.site._registry[Product]
    request = RequestFactory().post("/admin/")
    request.user = superuser
    product.is_active = False
    product_admin.save_model(request, product, form=None, change=True)
    form = SimpleNamespace(instance=product, save_m2m=lambda: None)
    product_admin.save_related(request, form, formsets=[], change=True)
    testing.commit()
    # then it leaves the storefront at once
    assert f'href="/shop/{shop.handle}/p/{product.id}/"' not in Client().get(page).content.decode()
