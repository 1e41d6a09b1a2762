"""A pre-sale order paid on the pages: the deposit first, then, once its window
opens, the balance, each page saying what is due and until when."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kinshop import testing
from kinshop.campaigns import services as campaigns
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.orders.models import Order
from kinshop.payments.models import Payment

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def order(shop, product):
    now = clock.now()
    presale = campaigns.create_presale(
        user=shop.owner,
        shop=shop,
        sku_id=product.skus.get().id,
        price=9000,
        deposit=1000,
        balance_starts_at=now + DAY,
        balance_ends_at=now + 2 * DAY,
        ships_on=(now + 3 * DAY).date(),
    )
    buyer = testing.make_user(phone="13600136000")
    placed = campaigns.buy_presale(
        user=buyer,
        presale_id=presale.pk,
        quantity=2,
        address=campaigns.Address("韩梅梅", "13600136000", "杭州市", "西湖路 1 号"),
    )
    testing.commit()
    return placed


def _pay_on_the_pages(client: Client, order: Order) -> None:
    chosen = client.post(f"/orders/{order.pk}/pay/", {"provider": "sandbox"})
    assert chosen.status_code == 302, chosen.content.decode()[:500]
    assert "/pay/sandbox/" in chosen["Location"]
    paid = client.post(chosen["Location"], {"payer_id": ""})
    assert paid.status_code == 302, paid.content.decode()[:500]


def test_the_deposit_then_the_balance_are_paid_on_the_pages(order):
    client = Client()
    client.force_login(order.buyer)

    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert "¥20.00" in page and 'data-testid="pay"' in page  # the deposit, 2 × 10.00
    choose = client.get(f"/orders/{order.pk}/pay/").content.decode()
    assert 'data-testid="amount-due">¥20.00' in choose

    _pay_on_the_pages(client, order)
    order.refresh_from_db()
    assert order.status == "awaiting_balance"

    # the window is not open yet: the page says when, and offers no payment
    page = client.get(f"/orders/{order.pk}/").content.decode()
    assert 'data-testid="presale-balance"' in page and "¥160.00" in page
    assert 'data-testid="pay-balance"' not in page
    early = client.post(f"/orders/{order.pk}/pay/", {"provider": "sandbox"})
    assert early.status_code == 302 and early["Location"].endswith(f"/orders/{order.pk}/")
    assert not Payment.objects.filter(order=order, purpose="balance").exists()

    with clock.travel(DAY + dt.timedelta(minutes=1)):
        page = client.get(f"/orders/{order.pk}/").content.decode()
        assert 'data-testid="pay-balance"' in page
        choose = client.get(f"/orders/{order.pk}/pay/").content.decode()
        assert 'data-testid="amount-due">¥160.00' in choose
        _pay_on_the_pages(client, order)

    order.refresh_from_db()
    assert order.status == "paid"
    purposes = dict(Payment.objects.filter(order=order).values_list("purpose", "amount"))
    assert purposes == {"deposit": 2000, "balance": 16000}
    assert ledger_queries.health()["balanced"]


def test_a_paid_order_has_no_payment_page(order):
    client = Client()
    client.force_login(order.buyer)
    _pay_on_the_pages(client, order)
    with clock.travel(DAY + dt.timedelta(minutes=1)):
        _pay_on_the_pages(client, order)

    response = client.get(f"/orders/{order.pk}/pay/")
    assert response.status_code == 302 and response["Location"].endswith(f"/orders/{order.pk}/")


def test_the_product_page_shows_the_presale_and_its_page_takes_the_deposit(shop, product):
    now = clock.now()
    presale = campaigns.create_presale(
        user=shop.owner,
        shop=shop,
        sku_id=product.skus.get().id,
        price=9000,
        deposit=1000,
        balance_starts_at=now + DAY,
        balance_ends_at=now + 2 * DAY,
        ships_on=(now + 3 * DAY).date(),
    )
    buyer = testing.make_user(phone="13600136001")
    client = Client()
    client.force_login(buyer)

    page = client.get(f"/shop/{shop.handle}/p/{product.id}/").content.decode()
    assert f'data-testid="presale-{presale.pk}"' in page and "¥90.00" in page
    offer = client.get(f"/presales/{presale.pk}/").content.decode()
    assert 'data-testid="presale-deposit">¥10.00' in offer

    ordered = client.post(
        f"/presales/{presale.pk}/",
        {
            "name": "韩梅梅",
            "phone": "13600136001",
            "region": "杭州市",
            "detail": "西湖路 2 号",
            "quantity": "3",
        },
    )

    order = Order.objects.get(buyer=buyer)
    assert ordered.status_code == 302 and ordered["Location"].endswith(f"/orders/{order.pk}/pay/")
    assert (order.total, order.deposit, order.amount_due) == (27000, 3000, 3000)

    # once the balance window has closed, the pre-sale leaves the product page
    with clock.travel(2 * DAY + dt.timedelta(minutes=1)):
        page = client.get(f"/shop/{shop.handle}/p/{product.id}/").content.decode()
        assert f'data-testid="presale-{presale.pk}"' not in page
        offer = client.get(f"/presales/{presale.pk}/").content.decode()
        assert 'data-testid="presale-ended"' in offer


def test_an_unknown_presale_is_a_404(shop):
    assert Client().get("/presales/999999/").status_code == 404
