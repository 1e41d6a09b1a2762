"""A pre-sale's balance payment racing the job that lapses unpaid balances, on
PostgreSQL with real threads: the order is paid in full, or cancelled with its
deposit and the late balance both sent back; never both, never neither."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from kinshop import testing
from kinshop.campaigns import services as campaigns
from kinshop.catalog.models import SKU
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.ledger.models import Account, JournalEntry, Posting
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order, Refund
from kinshop.payments import services as payments
from kinshop.payments.models import Payment, ProviderRefund
from kinshop.payments.providers import base, sandbox
from tests.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def platform_balance(kind: str) -> int:
    return sum(
        Posting.objects.filter(account__kind=kind, account__owner_key="platform").values_list(
            "amount", flat=True
        )
    )


@pytest.fixture
def presale():
    with transaction.atomic():
        _, staff = testing.make_supplier()
        product = testing.make_product(staff=staff, title="预售 Ahead")
        sku = product.skus.get()
        SKU.objects.filter(pk=sku.pk).update(stock=1000)
        shop = testing.make_shop(products=[product], price=9900)
        now = clock.now()
        return campaigns.create_presale(
            user=shop.owner,
            shop=shop,
            sku_id=sku.id,
            price=9000,
            deposit=1000,
            balance_starts_at=now - dt.timedelta(minutes=1),
            balance_ends_at=now + dt.timedelta(days=1),
            ships_on=(now + dt.timedelta(days=2)).date(),
        )


@pytest.mark.parametrize("attempt", range(3))
def test_a_balance_payment_racing_the_deadline_job_ends_in_one_outcome(presale, attempt):
    phone = f"1370000{attempt:04d}"
    client = testing.ApiClient(testing.make_user(phone=phone))
    body = {
        "quantity": 2,
        "address": {"name": "李雷", "phone": phone, "region": "上海市", "detail": "南京东路 1 号"},
    }
    order_id = client.post(f"/presales/{presale.id}/orders", body).json()["id"]
    deposit = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    client.post(f"/payments/{deposit['id']}/sandbox-confirm")
    balance = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"})
    assert balance.status_code == 201, balance.json()
    # the window closes a moment from now: the job runs "then", the payment now
    Order.objects.filter(pk=order_id).update(balance_ends_at=clock.now() + dt.timedelta(seconds=1))

    def act(index: int):
        if index == 0:
            return client.post(f"/payments/{balance.json()['id']}/sandbox-confirm")
        return run_due(clock.now() + dt.timedelta(hours=1))

    results = run_together(2, act)
    assert not any(isinstance(result, Exception) for result in results), results
    run_due(clock.now() + dt.timedelta(hours=1))

    order = Order.objects.get(pk=order_id)
    statuses = dict(Payment.objects.filter(order_id=order_id).values_list("purpose", "status"))
    refunds = ProviderRefund.objects.filter(payment__order_id=order_id)
    if order.status == Order.Status.PAID:
        assert statuses == {"deposit": "captured", "balance": "captured"}
        assert not refunds.exists()
        assert JournalEntry.objects.filter(kind="capture", order_id=order_id).count() == 1
        assert platform_balance(Account.Kind.CLEARING) == 18000
    else:
        assert order.status == Order.Status.CANCELLED
        assert statuses == {"deposit": "captured", "balance": "refunded_late"}
        assert sorted(refunds.values_list("amount", "status")) == [
            (2000, "succeeded"),
            (16000, "succeeded"),
        ]
        assert not JournalEntry.objects.filter(kind="capture", order_id=order_id).exists()
        assert platform_balance(Account.Kind.CLEARING) == 0
    assert platform_balance(Account.Kind.DEPOSITS) == 0
    assert ledger_queries.health()["balanced"]


@pytest.mark.parametrize("attempt", range(3))
def test_the_parts_of_a_refund_reported_at_once_complete_it_once(presale, attempt, monkeypatch):
    """A fully paid pre-sale refunded in full goes back as two provider refunds
    (balance, deposit); their success notifications, each delivered twice under
    its own event id, race in four threads: the refund completes once."""
    monkeypatch.setattr(
        sandbox.SandboxProvider,
        "send_refund",
        lambda self, **kwargs: base.SentRefund(provider_refund_id="sbx_rf_later", succeeded=False),
    )
    phone = f"1371000{attempt:04d}"
    client = testing.ApiClient(testing.make_user(phone=phone))
    body = {
        "quantity": 2,
        "address": {"name": "李雷", "phone": phone, "region": "上海市", "detail": "南京东路 1 号"},
    }
    order_id = client.post(f"/presales/{presale.id}/orders", body).json()["id"]
    for _ in ("deposit", "balance"):
        payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
        assert client.post(f"/payments/{payment['id']}/sandbox-confirm").status_code == 200
    staff = presale.sku.supplier.memberships.first().user
    asked = client.post(f"/orders/{order_id}/refunds", {"amount": 18000, "reason": "坏了"}).json()
    approved = testing.ApiClient(staff).post(f"/refunds/{asked['id']}/approve")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    parts = list(ProviderRefund.objects.filter(refund_id=asked["id"]).order_by("pk"))
    assert sorted((part.amount, part.status) for part in parts) == [(2000, "sent"), (16000, "sent")]

    def report(index: int):
        part = parts[index % 2]
        with transaction.atomic():
            return payments._apply(
                "sandbox",
                base.Notification(
                    event_id=f"evt-{attempt}-{index}",
                    kind=base.REFUND_SUCCEEDED,
                    payment_reference="",
                    amount=part.amount,
                    refund_reference=part.reference,
                ),
            )

    results = run_together(4, report)
    assert not any(isinstance(result, Exception) for result in results), results

    refund = Refund.objects.get(pk=asked["id"])
    assert refund.status == "succeeded"
    assert refund.history.filter(to_status="succeeded").count() == 1
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.refunded_amount) == ("refunded", 18000)
    assert JournalEntry.objects.filter(kind="refund", refund=refund).count() == 1
    assert platform_balance(Account.Kind.CLEARING) == 0
    assert platform_balance(Account.Kind.DEPOSITS) == 0
    assert ledger_queries.health()["balanced"]
