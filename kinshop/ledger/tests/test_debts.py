"""Issue 10, item 8: a debt is recovered before any withdrawal, from whichever of
the person's wallets they withdraw."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kinshop import testing
from kinshop.core import clock
from kinshop.core.errors import Conflict
from kinshop.ledger import queries, services
from kinshop.ledger.models import JournalEntry, Withdrawal
from kinshop.ledger.tests.helpers import complete, make_paid_order, refund_order, verified

pytestmark = pytest.mark.django_db


@pytest.fixture
def keeper_in_debt(product, operator, settings):
    """A shopkeeper whose own shop has 37.02 of margin available, and who owes
    3.30 as a sharer: their commission from another shop was paid out, then a
    third of that order was refunded after settlement."""
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    keeper = verified(testing.make_user("keeper"))
    own_shop = testing.make_shop(owner=keeper, products=[product], price=9900)
    elsewhere = testing.make_shop(products=[product], price=9900)
    shared = complete(make_paid_order(shop=elsewhere, product=product, sharer=keeper))
    complete(make_paid_order(shop=own_shop, product=product))
    with clock.travel(dt.timedelta(days=settings.KINSHOP_AFTER_SALES_DAYS)):
        services.settle_due(now=clock.now())
    paid = services.request_withdrawal(user=keeper, amount=990, wallet="sharer")
    services.approve_withdrawal(withdrawal=paid, actor=operator)
    refund_order(shared, 3300)
    assert queries.wallet(keeper, "sharer")["debt"] == 330
    assert queries.wallet(keeper, "shop")["available"] == 3702
    return keeper


def test_a_withdrawal_from_the_shop_wallet_repays_the_sharer_debt_first(keeper_in_debt, operator):
    keeper = keeper_in_debt
    # when the keeper withdraws 20.00 of margin
    withdrawal = services.request_withdrawal(user=keeper, amount=2000, wallet="shop")
    # then 3.30 repays the debt and only 16.70 is held for payout, in one entry
    assert (withdrawal.amount, withdrawal.debt_repaid) == (1670, 330)
    assert queries.wallet(keeper, "sharer")["debt"] == 0
    assert queries.wallet(keeper, "sharer")["available"] == 0
    shop_wallet = queries.wallet(keeper, "shop")
    assert (shop_wallet["available"], shop_wallet["withdrawal_requested"]) == (1702, 1670)
    entries = JournalEntry.objects.filter(withdrawal=withdrawal)
    assert entries.count() == 1
    assert sorted(entries.get().postings.values_list("amount", flat=True)) == [-1670, -330, 2000]
    # and the operator pays out the rest
    services.approve_withdrawal(withdrawal=withdrawal, actor=operator)
    assert queries.wallet(keeper, "shop")["paid_out"] == 1670


def test_a_debt_larger_than_the_withdrawal_is_refused_and_nothing_moves(keeper_in_debt):
    keeper = keeper_in_debt

    with pytest.raises(Conflict) as refused:
        services.request_withdrawal(user=keeper, amount=330, wallet="shop")

    assert (refused.value.code, refused.value.details["debt"]) == ("debt_first", 330)
    assert queries.wallet(keeper, "sharer")["debt"] == 330
    assert queries.wallet(keeper, "shop")["available"] == 3702
    assert not Withdrawal.objects.filter(wallet="shop").exists()


def test_a_rejected_withdrawal_gives_back_what_was_held_and_the_debt_stays_repaid(
    keeper_in_debt, operator
):
    keeper = keeper_in_debt
    withdrawal = services.request_withdrawal(user=keeper, amount=1000, wallet="shop")

    services.reject_withdrawal(withdrawal=withdrawal, actor=operator, reason="later")

    assert queries.wallet(keeper, "shop")["available"] == 3702 - 330
    assert queries.wallet(keeper, "sharer")["debt"] == 0


def test_without_a_debt_the_whole_amount_is_held(shop, product, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    keeper = verified(shop.owner)
    complete(make_paid_order(shop=shop, product=product), days_ago=30)
    services.settle_due(now=clock.now())

    withdrawal = services.request_withdrawal(user=keeper, amount=3702, wallet="shop")

    assert (withdrawal.amount, withdrawal.debt_repaid) == (3702, 0)


def test_the_api_shows_what_repaid_the_debt(keeper_in_debt):
    response = testing.ApiClient(keeper_in_debt).post(
        "/withdrawals", {"amount": 2000, "wallet": "shop"}
    )

    assert response.status_code == 201, response.json()
    assert (response.json()["amount"], response.json()["debt_repaid"]) == (1670, 330)
    assert testing.ApiClient(keeper_in_debt).get("/wallet").json()["debt"] == 0


def test_the_withdrawal_page_repays_the_debt_and_says_so(keeper_in_debt):
    browser = Client()
    browser.force_login(keeper_in_debt)

    refused = browser.post("/me/withdraw/", {"amount": "3.30", "wallet": "shop"})
    assert refused.status_code == 422
    assert "欠款 ¥3.30" in refused.content.decode()

    response = browser.post("/me/withdraw/", {"amount": "20", "wallet": "shop"}, follow=True)
    assert response.status_code == 200
    withdrawal = Withdrawal.objects.get(wallet="shop")
    page = response.content.decode()
    assert f'data-testid="withdrawal-debt-{withdrawal.id}"' in page
    assert "另有 ¥3.30 抵扣了欠款" in page
