"""Pre-sales (预售) through the API: a deposit, then the balance inside its
window, or the deposit back when the balance is not paid in time; every
error code; the ledger balanced after each step."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.campaigns.tests.conftest import address, buyer, pay
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger.models import Account, JournalEntry, Posting
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order, Refund
from kinshop.payments import services as payments
from kinshop.payments.models import Payment, ProviderRefund
from kinshop.payments.providers import base, sandbox
from kinshop.sharing import services as sharing

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def terms(sku, **changes) -> dict:
    now = clock.now()
    return {
        "sku_id": sku.id,
        "price": 9000,
        "deposit": 1000,
        "balance_starts_at": (now + DAY).isoformat(),
        "balance_ends_at": (now + 2 * DAY).isoformat(),
        "ships_on": (now + 3 * DAY).date().isoformat(),
        **changes,
    }


@pytest.fixture
def presale(keeper, shop, sku):
    response = keeper.post(f"/shops/{shop.handle}/presales", terms(sku))
    assert response.status_code == 201, response.json()
    return response.json()


def buy(client, presale_id, quantity=2, **extra):
    return client.post(
        f"/presales/{presale_id}/orders",
        {"quantity": quantity, "address": address(client.phone), **extra},
    )


def start_payment(client, order_id):
    return client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})


def clearing() -> int:
    total = sum(
        Posting.objects.filter(
            account__kind=Account.Kind.CLEARING, account__owner_key="platform"
        ).values_list("amount", flat=True)
    )
    return total


def deposits_held() -> int:
    return -sum(
        Posting.objects.filter(account__kind=Account.Kind.DEPOSITS).values_list("amount", flat=True)
    )


def test_a_deposit_then_the_balance_in_its_window_pays_the_order(presale, supplier_pair):
    client = buyer()
    order = buy(client, presale["id"]).json()
    assert (order["status"], order["campaign"], order["total"]) == (
        "pending_payment",
        "presale",
        18000,
    )
    assert (order["amount_due"], order["deposit"]) == (2000, 2000)
    assert order["ships_on"] == (clock.now() + 3 * DAY).date().isoformat()

    # the first payment is the deposit alone
    paid = pay(client, order["id"])
    assert paid.status_code == 200, paid.json()
    shown = client.get(f"/orders/{order['id']}").json()
    assert (shown["status"], shown["amount_due"]) == ("awaiting_balance", 16000)
    assert shown["deposit_paid_at"] is not None and shown["paid_at"] is None
    assert Payment.objects.get(order_id=order["id"]).purpose == "deposit"
    assert (clearing(), deposits_held()) == (2000, 2000)
    assert not JournalEntry.objects.filter(kind="capture", order_id=order["id"]).exists()
    assert ledger_queries.health()["balanced"]

    # it cannot ship, nor be refunded as an after-sales refund, before the balance
    _, staff = supplier_pair
    shipped = testing.ApiClient(staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 409
    refund = client.post(f"/orders/{order['id']}/refunds", {"amount": 100, "reason": "x"})
    assert (refund.status_code, refund.json()["code"]) == (409, "invalid_transition")

    # nor cancelled by hand, which would keep the deposit without a refund
    cancelled = client.post(f"/orders/{order['id']}/cancel")
    assert (cancelled.status_code, cancelled.json()["code"]) == (409, "invalid_transition")

    # the balance cannot be paid before its window opens
    early = start_payment(client, order["id"])
    assert (early.status_code, early.json()["code"]) == (409, "balance_not_open")

    # inside the window, the balance pays the rest and the whole price is split
    with clock.travel(DAY + dt.timedelta(minutes=1)):
        balance = pay(client, order["id"])
        assert balance.status_code == 200, balance.json()
        shown = client.get(f"/orders/{order['id']}").json()
    assert (shown["status"], shown["amount_due"]) == ("paid", 0)
    purposes = dict(Payment.objects.filter(order_id=order["id"]).values_list("purpose", "amount"))
    assert purposes == {"deposit": 2000, "balance": 16000}
    assert JournalEntry.objects.filter(kind="capture", order_id=order["id"]).count() == 1
    assert JournalEntry.objects.filter(kind="deposit_applied", order_id=order["id"]).count() == 1
    assert (clearing(), deposits_held()) == (18000, 0)
    assert ledger_queries.health()["balanced"]
    # and now it ships
    shipped = testing.ApiClient(staff).post(
        f"/orders/{order['id']}/shipments", {"carrier": "SF", "tracking_no": "SF1"}
    )
    assert shipped.status_code == 201, shipped.json()


def test_a_balance_not_paid_in_time_cancels_the_order_and_refunds_the_deposit(presale, sku):
    stock = SKU.objects.get(pk=sku.pk).stock
    client = buyer()
    order = buy(client, presale["id"]).json()
    pay(client, order["id"])
    assert SKU.objects.get(pk=sku.pk).stock == stock - 2

    # the job before the window closes changes nothing
    assert run_due(clock.now() + DAY + dt.timedelta(hours=1))["refund_lapsed_deposits"] == 0

    # late: the order is cancelled, its stock back, its deposit refunded
    counts = run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=1))
    assert counts["refund_lapsed_deposits"] == 1
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert SKU.objects.get(pk=sku.pk).stock == stock
    [provider_refund] = ProviderRefund.objects.filter(payment__order_id=order["id"])
    assert (provider_refund.amount, provider_refund.status) == (2000, "succeeded")
    assert JournalEntry.objects.filter(kind="deposit_refund", order_id=order["id"]).count() == 1
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]

    # run again, later still: nothing more happens
    again = run_due(clock.now() + 3 * DAY)
    assert again["refund_lapsed_deposits"] == 0
    assert ProviderRefund.objects.filter(payment__order_id=order["id"]).count() == 1

    # and a refunded deposit is never followed by a balance payment
    with clock.travel(DAY + dt.timedelta(hours=1)):
        balance = start_payment(client, order["id"])
    assert (balance.status_code, balance.json()["code"]) == (409, "invalid_transition")
    assert ledger_queries.health()["balanced"]


def test_a_balance_arriving_after_the_deposit_was_refunded_goes_back(presale):
    client = buyer()
    order = buy(client, presale["id"], quantity=1).json()
    pay(client, order["id"])
    with clock.travel(DAY + dt.timedelta(hours=1)):
        started = start_payment(client, order["id"])
        assert started.status_code == 201, started.json()
    # the window closes before the payer confirms: the deposit goes back
    run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=1))
    with clock.travel(2 * DAY + dt.timedelta(minutes=2)):
        late = client.post(f"/payments/{started.json()['id']}/sandbox-confirm")
    assert late.status_code == 200, late.json()
    assert late.json()["status"] == "refunded_late"
    run_due(clock.now() + 2 * DAY + dt.timedelta(minutes=3))
    assert Order.objects.get(pk=order["id"]).status == "cancelled"
    assert not JournalEntry.objects.filter(kind="capture", order_id=order["id"]).exists()
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]


def test_the_balance_window_closed_is_refused(presale):
    client = buyer()
    order = buy(client, presale["id"], quantity=1).json()
    pay(client, order["id"])
    with clock.travel(2 * DAY + dt.timedelta(minutes=1)):
        late = start_payment(client, order["id"])
    assert (late.status_code, late.json()["code"]) == (409, "balance_closed")


def _fully_paid(client, presale_id, **extra) -> dict:
    """A pre-sale order of 2 (18000: deposit 2000, balance 16000), both paid."""
    order = buy(client, presale_id, **extra).json()
    assert pay(client, order["id"]).status_code == 200
    with clock.travel(DAY + dt.timedelta(minutes=1)):
        assert pay(client, order["id"]).status_code == 200
    assert Order.objects.get(pk=order["id"]).status == "paid"
    return order


def _refund(client, supplier, order_id: int, amount: int):
    asked = client.post(f"/orders/{order_id}/refunds", {"amount": amount, "reason": "broken"})
    assert asked.status_code == 201, asked.json()
    return supplier.post(f"/refunds/{asked.json()['id']}/approve")


def _parts(order_id: int) -> list[tuple[str, int, str]]:
    return sorted(
        ProviderRefund.objects.filter(payment__order_id=order_id).values_list(
            "payment__purpose", "amount", "status"
        )
    )


def _sharer_balance(sharer) -> int:
    return sum(
        Posting.objects.filter(account__owner_key=f"sharer:{sharer.pk}").values_list(
            "amount", flat=True
        )
    )


def test_a_full_refund_of_a_fully_paid_presale_goes_back_through_both_payments(
    presale, supplier_pair, shop, sku
):
    sharer = testing.make_user()
    code = sharing.create_share_link(sharer=sharer, shop=shop, product=sku.product)
    client = buyer()
    order = _fully_paid(client, presale["id"], share_code=code.code)
    commission = -_sharer_balance(sharer)
    assert commission > 0  # the sharer earns on the whole price
    supplier = testing.ApiClient(supplier_pair[1])

    approved = _refund(client, supplier, order["id"], 18000)

    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "succeeded"
    run_due(clock.now())  # nothing is left for the jobs
    # one provider refund per payment: the balance, then the deposit
    assert _parts(order["id"]) == [("balance", 16000, "succeeded"), ("deposit", 2000, "succeeded")]
    assert ProviderRefund.objects.filter(refund_id=approved.json()["id"]).count() == 2
    shown = Order.objects.get(pk=order["id"])
    assert (shown.status, shown.refunded_amount) == ("refunded", 18000)
    # the split is reversed once, the commission clawed back once
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 1
    assert _sharer_balance(sharer) == 0
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]


def test_refunds_draw_on_the_balance_first_then_the_deposit(presale, supplier_pair):
    client = buyer()
    order = _fully_paid(client, presale["id"])
    supplier = testing.ApiClient(supplier_pair[1])

    # a refund the balance covers goes back through the balance alone
    first = _refund(client, supplier, order["id"], 5000)
    assert (first.status_code, first.json()["status"]) == (200, "succeeded")
    assert _parts(order["id"]) == [("balance", 5000, "succeeded")]
    assert Order.objects.get(pk=order["id"]).refunded_amount == 5000

    # the rest: what is left of the balance, then the deposit
    rest = _refund(client, supplier, order["id"], 13000)
    assert (rest.status_code, rest.json()["status"]) == (200, "succeeded")
    assert _parts(order["id"]) == [
        ("balance", 5000, "succeeded"),
        ("balance", 11000, "succeeded"),
        ("deposit", 2000, "succeeded"),
    ]
    shown = Order.objects.get(pk=order["id"])
    assert (shown.status, shown.refunded_amount) == ("refunded", 18000)
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 2
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]


@pytest.fixture
def provider_answers_later(monkeypatch):
    """The sandbox provider accepts refunds and confirms them later, by notification."""
    monkeypatch.setattr(
        sandbox.SandboxProvider,
        "send_refund",
        lambda self, **kwargs: base.SentRefund(provider_refund_id="sbx_rf_later", succeeded=False),
    )


def _notify(kind: str, part: ProviderRefund, event_id: str) -> None:
    with transaction.atomic():
        payments._apply(
            "sandbox",
            base.Notification(
                event_id=event_id,
                kind=kind,
                payment_reference="",
                amount=part.amount,
                refund_reference=part.reference,
            ),
        )


def test_a_part_notified_twice_reverses_the_refund_once(
    presale, supplier_pair, provider_answers_later
):
    client = buyer()
    order = _fully_paid(client, presale["id"])
    supplier = testing.ApiClient(supplier_pair[1])
    approved = _refund(client, supplier, order["id"], 17000)
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    balance, deposit = ProviderRefund.objects.filter(refund_id=approved.json()["id"]).order_by(
        "payment__purpose"
    )
    assert (balance.payment.purpose, balance.amount, balance.status) == ("balance", 16000, "sent")
    assert (deposit.payment.purpose, deposit.amount, deposit.status) == ("deposit", 1000, "sent")

    # the balance's part is back, twice over: the refund still waits for the deposit's
    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance")
    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance-again")
    refund = Refund.objects.get(pk=approved.json()["id"])
    assert refund.status == "approved"
    assert Order.objects.get(pk=order["id"]).refunded_amount == 0
    assert not JournalEntry.objects.filter(kind="refund", order_id=order["id"]).exists()

    # the deposit's part completes it, once, however often it is reported or sent
    _notify(base.REFUND_SUCCEEDED, deposit, "evt-deposit")
    _notify(base.REFUND_SUCCEEDED, deposit, "evt-deposit-again")
    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance-late")
    assert payments.send_provider_refund(provider_refund_id=deposit.pk) == "succeeded"
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    assert Order.objects.get(pk=order["id"]).refunded_amount == 17000
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 1
    assert refund.history.filter(to_status="succeeded").count() == 1
    assert clearing() == 1000
    assert ledger_queries.health()["balanced"]


def _refund_journal_clearing(refund_id: int) -> int:
    """What the refund's ledger entry takes out of clearing (positive)."""
    return -sum(
        Posting.objects.filter(
            entry__kind="refund", entry__refund_id=refund_id, account__kind=Account.Kind.CLEARING
        ).values_list("amount", flat=True)
    )


def _shared_and_fully_paid(presale, shop, sku) -> tuple[object, dict, object]:
    sharer = testing.make_user()
    code = sharing.create_share_link(sharer=sharer, shop=shop, product=sku.product)
    client = buyer()
    order = _fully_paid(client, presale["id"], share_code=code.code)
    commission = -_sharer_balance(sharer)
    assert commission > 0
    return sharer, order, client


class TwoPartRefund(NamedTuple):
    sharer: object
    order: dict
    client: object
    supplier: object
    commission: int
    refund_id: int
    balance: ProviderRefund
    deposit: ProviderRefund


def _whole_refund_in_two_parts(presale, supplier_pair, shop, sku) -> TwoPartRefund:
    """A pre-sale bought through a share link and paid in full (2000 + 16000),
    then refunded whole: approved, and carried by one provider refund per payment."""
    sharer, order, client = _shared_and_fully_paid(presale, shop, sku)
    commission = -_sharer_balance(sharer)
    supplier = testing.ApiClient(supplier_pair[1])
    approved = _refund(client, supplier, order["id"], 18000)
    refund_id = approved.json()["id"]
    balance, deposit = ProviderRefund.objects.filter(refund_id=refund_id).order_by(
        "payment__purpose"
    )
    return TwoPartRefund(sharer, order, client, supplier, commission, refund_id, balance, deposit)


@pytest.mark.parametrize(
    "failure_first", [False, True], ids=["balance-back-first", "deposit-refused-first"]
)
def test_a_refund_back_through_one_payment_and_refused_by_the_other_completes_for_what_went_back(
    presale, supplier_pair, shop, sku, provider_answers_later, failure_first
):
    sharer, order, client, supplier, commission, refund_id, balance, deposit = (
        _whole_refund_in_two_parts(presale, supplier_pair, shop, sku)
    )
    assert (balance.amount, deposit.amount) == (16000, 2000)

    # the balance's 16000 go back and the deposit's 2000 are refused, in either order
    if failure_first:
        _notify(base.REFUND_FAILED, deposit, "evt-deposit")
        refund = Refund.objects.get(pk=refund_id)
        assert refund.status == "approved"  # the balance's part is still on its way
        assert not JournalEntry.objects.filter(kind="refund", order_id=order["id"]).exists()
        _notify(base.REFUND_SUCCEEDED, balance, "evt-balance")
    else:
        _notify(base.REFUND_SUCCEEDED, balance, "evt-balance")
        assert Refund.objects.get(pk=refund_id).status == "approved"
        _notify(base.REFUND_FAILED, deposit, "evt-deposit")

    # the refund completes for what went back; the rest is a failed refund of its own
    refund = Refund.objects.get(pk=refund_id)
    assert (refund.status, refund.amount) == ("succeeded", 16000)
    assert sum(refund.allocations.values_list("amount", flat=True)) == 16000
    assert refund.history.get(to_status="succeeded").reason.startswith("16000 of 18000 fen")
    [failed] = Refund.objects.filter(order_id=order["id"]).exclude(pk=refund_id)
    assert (failed.status, failed.amount) == ("failed", 2000)
    assert [(c.from_status, c.to_status) for c in failed.history.all()] == [("", "failed")]
    assert list(refund.provider_refunds.values_list("pk", "status")) == [(balance.pk, "succeeded")]
    assert list(failed.provider_refunds.values_list("pk", "status")) == [(deposit.pk, "failed")]
    shown = Order.objects.get(pk=order["id"])
    assert (shown.status, shown.refunded_amount) == ("paid", 16000)
    # the ledger reverses exactly what went back, the commission pro rata
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 1
    assert _refund_journal_clearing(refund_id) == 16000
    assert clearing() == 2000
    assert _sharer_balance(sharer) == -(commission - commission * 16000 // 18000)
    assert ledger_queries.health()["balanced"]

    # the buyer asks for the rest again: it goes back through the deposit
    again = _refund(client, supplier, order["id"], 2000)
    assert (again.status_code, again.json()["status"]) == (200, "approved"), again.json()
    [part] = ProviderRefund.objects.filter(refund_id=again.json()["id"])
    assert (part.payment.purpose, part.amount) == ("deposit", 2000)
    _notify(base.REFUND_SUCCEEDED, part, "evt-rest")
    assert Refund.objects.get(pk=again.json()["id"]).status == "succeeded"
    shown = Order.objects.get(pk=order["id"])
    assert (shown.status, shown.refunded_amount) == ("refunded", 18000)
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 2
    assert _sharer_balance(sharer) == 0
    assert (clearing(), deposits_held()) == (0, 0)
    assert ledger_queries.health()["balanced"]


def test_a_refund_refused_by_both_payments_fails_whole_and_can_be_asked_again(
    presale, supplier_pair, shop, sku, provider_answers_later
):
    sharer, order, client, _supplier, commission, refund_id, balance, deposit = (
        _whole_refund_in_two_parts(presale, supplier_pair, shop, sku)
    )

    _notify(base.REFUND_FAILED, balance, "evt-1")
    assert Refund.objects.get(pk=refund_id).status == "approved"
    _notify(base.REFUND_FAILED, deposit, "evt-2")

    [refund] = Refund.objects.filter(order_id=order["id"])
    assert (refund.status, refund.amount) == ("failed", 18000)
    assert refund.provider_refunds.filter(status="failed").count() == 2
    assert not JournalEntry.objects.filter(kind="refund", order_id=order["id"]).exists()
    shown = Order.objects.get(pk=order["id"])
    assert (shown.status, shown.refunded_amount) == ("paid", 0)
    assert _sharer_balance(sharer) == -commission
    assert clearing() == 18000
    assert ledger_queries.health()["balanced"]
    # no money went back: the buyer may ask for all of it again
    again = client.post(f"/orders/{order['id']}/refunds", {"amount": 18000, "reason": "x"})
    assert again.status_code == 201, again.json()


def test_parts_reported_again_record_a_refund_back_in_part_once(
    presale, supplier_pair, shop, sku, provider_answers_later
):
    sharer, order, _client, _supplier, commission, refund_id, balance, deposit = (
        _whole_refund_in_two_parts(presale, supplier_pair, shop, sku)
    )

    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance")
    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance-again")
    _notify(base.REFUND_FAILED, deposit, "evt-deposit")
    _notify(base.REFUND_FAILED, deposit, "evt-deposit-again")
    _notify(base.REFUND_SUCCEEDED, balance, "evt-balance-late")
    assert payments.send_provider_refund(provider_refund_id=balance.pk) == "succeeded"
    assert payments.send_provider_refund(provider_refund_id=deposit.pk) == "failed"

    refund = Refund.objects.get(pk=refund_id)
    assert (refund.status, refund.amount) == ("succeeded", 16000)
    assert refund.history.filter(to_status="succeeded").count() == 1
    assert Refund.objects.filter(order_id=order["id"], status="failed").count() == 1
    assert Order.objects.get(pk=order["id"]).refunded_amount == 16000
    assert JournalEntry.objects.filter(kind="refund", order_id=order["id"]).count() == 1
    assert _refund_journal_clearing(refund_id) == 16000
    assert _sharer_balance(sharer) == -(commission - commission * 16000 // 18000)
    assert ledger_queries.health()["balanced"]


def test_a_refund_more_than_the_payments_still_hold_is_refused(presale, supplier_pair):
    client = buyer()
    order = _fully_paid(client, presale["id"])
    supplier = testing.ApiClient(supplier_pair[1])
    # money went back through the balance without an after-sales refund
    balance = Payment.objects.get(order_id=order["id"], purpose="balance")
    ProviderRefund.objects.create(
        payment=balance, amount=16000, reference="R-outside", created_at=clock.now()
    )
    refused = _refund(client, supplier, order["id"], 18000)
    assert (refused.status_code, refused.json()["code"]) == (422, "refund_exceeds_paid")
    assert refused.json()["details"]["refundable"] == 2000
    assert Refund.objects.get(order_id=order["id"]).status == "requested"
    assert ProviderRefund.objects.filter(refund__isnull=False).count() == 0


def test_create_presale_error_codes(keeper, shop, sku):
    url = f"/shops/{shop.handle}/presales"
    now = clock.now()
    cases = [
        ({"deposit": 9001}, 422, "invalid_deposit"),
        ({"balance_ends_at": (now + DAY).isoformat()}, 422, "invalid_balance_window"),
        (
            {
                "balance_starts_at": (now - 2 * DAY).isoformat(),
                "balance_ends_at": (now - DAY).isoformat(),
            },
            422,
            "ends_in_the_past",
        ),
        ({"ships_on": now.date().isoformat()}, 422, "ships_before_balance"),
        ({"price": 20000, "deposit": 100}, 422, "price_outside_band"),
        ({"sku_id": 2**40}, 422, "sku_not_sold_here"),
    ]
    for changes, status, code in cases:
        response = keeper.post(url, terms(sku, **changes))
        assert (response.status_code, response.json()["code"]) == (status, code), changes
    stranger = buyer().post(url, terms(sku))
    assert (stranger.status_code, stranger.json()["code"]) == (403, "not_shopkeeper")
    assert testing.ApiClient().post(url, terms(sku)).status_code == 401
    missing = keeper.post("/shops/no-such-shop/presales", terms(sku))
    assert (missing.status_code, missing.json()["code"]) == (404, "shop_not_found")


def test_buy_presale_error_codes_and_idempotency(presale, keeper, shop, sku, settings):
    client = buyer()
    missing = buy(client, 2**40)
    assert (missing.status_code, missing.json()["code"]) == (404, "presale_not_found")
    assert testing.ApiClient().post(f"/presales/{presale['id']}/orders", {}).status_code == 401
    settings.KINSHOP_MAX_UNPAID_UNITS = 3
    over = buy(client, presale["id"], quantity=4)
    assert (over.status_code, over.json()["code"]) == (409, "too_many_unpaid")
    headers = {"Idempotency-Key": "presale-1"}
    body = {"quantity": 1, "address": address(client.phone)}
    first = client.post(f"/presales/{presale['id']}/orders", body, headers=headers)
    second = client.post(f"/presales/{presale['id']}/orders", body, headers=headers)
    assert first.status_code == 201, first.json()
    assert second.json()["id"] == first.json()["id"]
    assert Order.objects.filter(campaign="presale").count() == 1
    with clock.travel(2 * DAY + dt.timedelta(minutes=1)):
        ended = buy(client, presale["id"], quantity=1)
    assert (ended.status_code, ended.json()["code"]) == (409, "ended")


def test_the_operator_sees_each_presale_with_its_orders_by_stage(client, presale):
    paid_deposit, unpaid = buyer(), buyer()
    pay(paid_deposit, buy(paid_deposit, presale["id"], quantity=1).json()["id"])
    buy(unpaid, presale["id"], quantity=1)
    client.force_login(testing.make_user("presale_operator", is_staff=True, is_superuser=True))
    listing = client.get("/admin/campaigns/presale/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert 'class="field-awaiting_deposit">1<' in html
    assert 'class="field-awaiting_balance">1<' in html
    assert 'class="field-fully_paid">0<' in html
    detail = client.get(f"/admin/campaigns/presale/{presale['id']}/change/")
    assert detail.status_code == 200
