"""The sharer centre (/me/) through the Django test client."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.ledger import queries
from kinshop.ledger.models import Withdrawal
from kinshop.sharing import services as sharing
from kinshop.web.tests.helpers import place_paid_order, settled_commission

pytestmark = pytest.mark.django_db


def signed_in(client, user):
    client.force_login(user)
    return client


def fen_of(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}" data-fen="(-?\d+)"', html)
    assert match, f"{testid} not found"
    return int(match.group(1))


# -- access --


@pytest.mark.parametrize(
    "url", ["/me/", "/me/entries/", "/me/identity/", "/me/withdraw/", "/me/withdrawals/"]
)
def test_sharer_centre_needs_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/sign-in/")


@pytest.mark.parametrize(
    "url", ["/me/", "/me/entries/", "/me/identity/", "/me/withdraw/", "/me/withdrawals/"]
)
def test_sharer_centre_pages_render_for_their_owner(client, url):
    signed_in(client, testing.make_user())
    assert client.get(url).status_code == 200


def test_a_wallet_the_user_does_not_have_falls_back_to_their_own(client, shop):
    # given a sharer without a shop asking for the shop's wallet of someone else
    stranger = testing.make_user()
    signed_in(client, stranger)
    # when
    response = client.get("/me/?as=shop")
    # then they see their own commission wallet, never the shop's
    assert response.status_code == 200
    assert response.context["wallet_name"] == "sharer"


def test_nobody_sees_another_persons_commission(client, shop, product):
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    signed_in(client, testing.make_user())
    html = client.get("/me/").content.decode()
    assert fen_of(html, "wallet-available") == 0
    assert client.get("/me/entries/").context["rows"] == []


# -- wallet, links, entries --


def test_overview_shows_settled_commission_and_the_link(client, shop, product):
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    signed_in(client, sharer)
    response = client.get("/me/")
    html = response.content.decode()
    # 2 × 99.00 × 10 % = 19.80, settled
    assert fen_of(html, "wallet-available") == 1980
    assert fen_of(html, "wallet-pending") == 0
    assert fen_of(html, "wallet-debt") == 0
    link = response.context["page_obj"][0]
    assert (link.click_count, link.order_count, link.commission_total) == (1, 1, 1980)


def test_shopkeeper_sees_a_tab_for_the_shop_wallet(client, shop, product):
    settled_commission(shop, product, testing.make_user())
    signed_in(client, shop.owner)
    response = client.get("/me/?as=shop")
    assert [name for name, _ in response.context["wallets"]] == ["sharer", "shop"]
    # margin: 19800 − 12000 supply − 1980 commission − 0 fee
    assert fen_of(response.content.decode(), "wallet-available") == 5820


def test_entries_show_their_order(client, shop, product):
    sharer = testing.make_user()
    order = settled_commission(shop, product, sharer)
    signed_in(client, sharer)
    rows = client.get("/me/entries/").context["rows"]
    assert [(row["entry"].kind, row["amount"], row["entry"].order_id) for row in rows] == [
        ("settlement", 1980, order.id),
        ("settlement", -1980, order.id),
        ("capture", 1980, order.id),
    ]


# -- identity --


def test_verify_identity_then_the_masked_number_is_shown(client):
    user = testing.make_user()
    signed_in(client, user)
    response = client.post(
        "/me/identity/", {"real_name": "王芳", "id_number": "11010519491231002X"}, follow=True
    )
    assert response.status_code == 200
    assert accounts.is_identity_verified(user)
    assert "110***********002X" in response.content.decode()


def test_an_invalid_id_number_is_refused_in_chinese(client):
    user = testing.make_user()
    signed_in(client, user)
    response = client.post("/me/identity/", {"real_name": "王芳", "id_number": "123"})
    assert response.status_code == 422
    assert not accounts.is_identity_verified(user)
    assert "身份证号" in response.content.decode()


# -- withdrawal --


def test_request_a_withdrawal_of_settled_commission(client, shop, product):
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    accounts.verify_identity(user=sharer, real_name="王芳", id_number="11010519491231002X")
    signed_in(client, sharer)
    response = client.post("/me/withdraw/", {"amount": "19.80", "wallet": "sharer"}, follow=True)
    assert response.redirect_chain[-1][0] == "/me/withdrawals/"
    withdrawal = Withdrawal.objects.get(user=sharer)
    assert (withdrawal.amount, withdrawal.status, withdrawal.wallet) == (
        1980,
        "requested",
        "sharer",
    )
    assert queries.wallet(sharer)["available"] == 0
    assert queries.wallet(sharer)["withdrawal_requested"] == 1980
    assert f'data-testid="withdrawal-status-{withdrawal.id}"' in response.content.decode()


def test_a_withdrawal_without_identity_is_refused_with_a_message(client, shop, product):
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    signed_in(client, sharer)
    response = client.post("/me/withdraw/", {"amount": "9.90", "wallet": "sharer"})
    assert response.status_code == 422
    assert not Withdrawal.objects.exists()
    assert "请先完成实名认证" in response.content.decode()


def test_a_withdrawal_above_the_available_is_refused_in_english(client, shop, product):
    sharer = testing.make_user()
    settled_commission(shop, product, sharer)
    accounts.verify_identity(user=sharer, real_name="Wang Fang", id_number="11010519491231002X")
    signed_in(client, sharer)
    client.cookies["django_language"] = "en"
    response = client.post(
        "/me/withdraw/", {"amount": "100", "wallet": "sharer"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    assert "more than is available (¥19.80)" in response.content.decode()
    assert not Withdrawal.objects.exists()


def test_a_withdrawal_amount_must_be_yuan(client):
    signed_in(client, testing.make_user())
    response = client.post("/me/withdraw/", {"amount": "9.999", "wallet": "sharer"})
    assert response.status_code == 422
    assert response.context["form"].errors["amount"]


def test_a_wallet_the_user_has_not_is_not_a_choice(client):
    signed_in(client, testing.make_user())
    response = client.post("/me/withdraw/", {"amount": "10", "wallet": "supplier"})
    assert response.status_code == 422
    assert response.context["form"].errors["wallet"]


# -- query count --


def _overview_queries(client, user) -> int:
    signed_in(client, user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/me/").status_code == 200
    return len(captured)


def test_sharer_centre_queries_do_not_grow_with_orders(client, shop, product):
    sku = product.skus.first()
    sharer = testing.make_user()
    sharing.create_share_link(sharer=sharer, shop=shop)
    links = [sharing.create_share_link(sharer=sharer, shop=shop, product=product)]
    for _ in range(5):
        place_paid_order(shop=shop, sku=sku, share_code=links[0].code)
    few = _overview_queries(client, sharer)
    for _ in range(45):
        place_paid_order(shop=shop, sku=sku, share_code=links[0].code)
    many = _overview_queries(client, sharer)
    assert few == many
