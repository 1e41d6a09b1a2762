from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from kinshop.core import clock
from kinshop.ledger import queries, services
from kinshop.ledger.models import JournalEntry, LineSettlement, Withdrawal
from kinshop.ledger.tests.helpers import complete, make_paid_order, refund_order, verified
from kinshop.testing import (
    ApiClient,
    make_operator,
    make_product,
    make_shop,
    make_supplier,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sharer(db):
    return make_user("sharer")


def settled_order(shop, product, sharer):
    order = complete(make_paid_order(shop=shop, product=product, sharer=sharer), days_ago=30)
    services.settle_due(now=clock.now())
    return order


def test_wallet_shows_pending_available_and_debt(shop, product, sharer, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    order = settled_order(shop, product, verified(sharer))
    make_paid_order(shop=shop, product=product, sharer=sharer)
    client = ApiClient(sharer)

    response = client.get("/wallet")
    assert response.status_code == 200
    assert response.json() == {
        "wallet": "sharer",
        "pending": 990,
        "available": 990,
        "debt": 0,
        "held": 0,
        "withdrawal_requested": 0,
        "paid_out": 0,
        "currency": "CNY",
    }

    response = client.post("/withdrawals", {"amount": 990})
    assert response.status_code == 201, response.content
    withdrawal_id = response.json()["id"]
    assert response.json()["status"] == "requested"
    response = ApiClient(make_operator()).post(f"/withdrawals/{withdrawal_id}/approve")
    assert response.status_code == 200
    assert response.json()["status"] == "paid_out"

    refund_order(order, 3300)
    body = client.get("/wallet", **{"as": "sharer"}).json()
    assert (body["available"], body["debt"]) == (-330, 330)

    response = client.post("/withdrawals", {"amount": 100})
    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_funds"


def test_wallet_of_a_shop_and_a_supplier(shop, product, sharer, supplier_pair):
    settled_order(shop, product, sharer)
    _, staff = supplier_pair

    assert ApiClient(shop.owner).get("/wallet", **{"as": "shop"}).json()["available"] == 2712
    assert ApiClient(staff).get("/wallet", **{"as": "supplier"}).json()["available"] == 6000
    response = ApiClient(sharer).get("/wallet", **{"as": "shop"})
    assert response.status_code == 403
    assert response.json()["code"] == "not_shopkeeper"
    response = ApiClient(sharer).get("/wallet", **{"as": "platform"})
    assert response.status_code == 422


def test_wallet_entries_list_postings_with_their_order(shop, product, sharer):
    order = settled_order(shop, product, sharer)
    refund_order(order, 3300)

    response = ApiClient(sharer).get("/wallet/entries", limit=10)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    rows = [(row["entry_kind"], row["account_kind"], row["amount"]) for row in body["items"]]
    assert rows == [
        ("refund", "available", -330),
        ("settlement", "available", 990),
        ("settlement", "pending", -990),
        ("capture", "pending", 990),
    ]
    assert {row["order_id"] for row in body["items"]} == {order.pk}
    assert body["items"][0]["refund_id"] is not None


def test_withdrawal_errors_have_codes(shop, product, sharer, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 500
    settled_order(shop, product, sharer)
    client = ApiClient(sharer)

    def refused(status, code, data):
        response = client.post("/withdrawals", data)
        assert response.status_code == status, response.content
        assert response.json()["code"] == code

    refused(403, "identity_not_verified", {"amount": 500})
    verified(sharer)
    refused(409, "below_minimum", {"amount": 499})
    refused(409, "insufficient_funds", {"amount": 991})
    refused(403, "not_shopkeeper", {"amount": 500, "wallet": "shop"})
    refused(403, "not_supplier_staff", {"amount": 500, "wallet": "supplier"})
    refused(422, "invalid_input", {"amount": -5})
    refused(422, "invalid_input", {"amount": 500, "wallet": "platform"})
    assert ApiClient().post("/withdrawals", {"amount": 500}).status_code == 401


def test_withdrawal_is_idempotent_by_key(shop, product, sharer, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    settled_order(shop, product, verified(sharer))
    client = ApiClient(sharer)
    key = {"Idempotency-Key": "w-1"}

    first = client.post("/withdrawals", {"amount": 600}, headers=key)
    again = client.post("/withdrawals", {"amount": 600}, headers=key)
    other = client.post("/withdrawals", {"amount": 300}, headers=key)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert other.status_code == 409
    assert other.json()["code"] == "idempotency_key_reused"
    assert Withdrawal.objects.count() == 1
    assert queries.wallet(sharer)["withdrawal_requested"] == 600


def test_only_operators_decide_and_see_the_ledger(shop, product, sharer, settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    settled_order(shop, product, verified(sharer))
    client = ApiClient(sharer)
    withdrawal_id = client.post("/withdrawals", {"amount": 500}).json()["id"]
    operator = ApiClient(make_operator())

    for path in (f"/withdrawals/{withdrawal_id}/approve", f"/withdrawals/{withdrawal_id}/reject"):
        response = client.post(path)
        assert response.status_code == 403
        assert response.json()["code"] == "not_operator"
    for path in ("/ledger/health", "/compliance/report"):
        response = client.get(path)
        assert response.status_code == 403
        assert response.json()["code"] == "not_operator"

    assert operator.post("/withdrawals/999999/approve").status_code == 404
    response = operator.post(f"/withdrawals/{withdrawal_id}/reject", {"reason": "check details"})
    assert response.json()["status"] == "rejected"
    response = operator.post(f"/withdrawals/{withdrawal_id}/approve")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"

    other = ApiClient(make_user())
    assert other.get("/withdrawals").json()["count"] == 0
    assert client.get("/withdrawals").json()["count"] == 1
    assert operator.get("/withdrawals", status="rejected").json()["count"] == 1

    health = operator.get("/ledger/health").json()
    assert health["balanced"] is True
    assert health["entries"] == 4  # capture, settlement, withdrawal, rejection
    report = operator.get("/compliance/report").json()
    assert report["commission_levels"] == 1
    assert report["orders"] == 1
    assert report["retail_reach_rate"] == 1.0


def test_operation_ids_are_the_contract(db):
    schema = ApiClient().client.get("/api/v1/openapi.json").json()
    operations = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert {
        "get_wallet",
        "list_wallet_entries",
        "request_withdrawal",
        "approve_withdrawal",
        "reject_withdrawal",
        "list_withdrawals",
        "ledger_health",
        "compliance_report",
    } <= operations


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_withdrawals_never_take_more_than_is_available(settings):
    settings.KINSHOP_MIN_WITHDRAWAL = 100
    with transaction.atomic():
        _, staff = make_supplier()
        product = make_product(staff=staff)
        shop = make_shop(products=[product], price=9900)
        sharer = verified(make_user())
        for _ in range(3):
            complete(make_paid_order(shop=shop, product=product, sharer=sharer), days_ago=30)
        services.settle_due(now=clock.now())
    assert queries.wallet(sharer)["available"] == 2970

    barrier = threading.Barrier(10)
    outcomes: list[str] = []

    def withdraw():
        try:
            barrier.wait()
            with transaction.atomic():
                services.request_withdrawal(user=sharer, amount=700)
            outcomes.append("ok")
        except Exception as error:
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=withdraw) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("ok") == 4  # 4 × 700 = 2800 ≤ 2970 < 5 × 700
    assert outcomes.count("insufficient_funds") == 6
    wallet = queries.wallet(sharer)
    assert wallet["withdrawal_requested"] == 2800
    assert wallet["available"] == 170
    assert Withdrawal.objects.count() == 4
    assert queries.health()["balanced"] is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_settlement_workers_share_the_backlog_and_post_each_line_once():
    # given ten matured orders of two lines each
    with transaction.atomic():
        _, staff = make_supplier()
        product = make_product(staff=staff)
        shop = make_shop(products=[product], price=9900)
        sharer = verified(make_user())
        orders = [
            complete(
                make_paid_order(shop=shop, product=product, sharer=sharer, lines=2), days_ago=30
            )
            for _ in range(10)
        ]
    barrier = threading.Barrier(2)
    settled: dict[int, list[int]] = {0: [], 1: []}
    errors: list[Exception] = []

    def worker(number: int) -> None:
        # when two workers settle at once, each holding its batch a moment
        try:
            barrier.wait(timeout=30)
            while True:
                with transaction.atomic():
                    count = services.settle_due(now=clock.now(), max_orders=2)
                    time.sleep(0.2)
                if not count:
                    break
                settled[number].append(count)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(number,)) for number in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then they skipped each other's locked orders: both worked, no line twice
    assert errors == []
    assert settled[0] and settled[1]
    assert sum(settled[0]) + sum(settled[1]) == 20
    assert LineSettlement.objects.count() == 20
    assert JournalEntry.objects.filter(kind="settlement").count() == len(orders)
    assert queries.wallet(sharer)["available"] == 990 * 2 * 10
    assert queries.health()["balanced"] is True


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_settlement_workers_and_a_refund_at_once_settle_each_line_once_and_skip_held():
    # given a backlog: twelve matured orders of two lines, one whose commission is
    # held under a fraud flag, one partly and one fully refunded, one not yet due
    with transaction.atomic():
        _, staff = make_supplier()
        product = make_product(staff=staff)
        shop = make_shop(products=[product], price=9900)
        sharer = verified(make_user())

        def paid(lines: int = 1):
            return make_paid_order(shop=shop, product=product, sharer=sharer, lines=lines)

        matured = [complete(paid(2), days_ago=30) for _ in range(12)]
        held = complete(paid(), days_ago=30)
        services.hold_commission(line=held.lines.get(), reason="same address")
        partly = paid()
        refund_order(partly, 3300)
        complete(partly, days_ago=30)
        fully = paid()
        refund_order(fully, 9900)
        not_yet = complete(paid(), days_ago=0)
    lines = [line for order in (*matured, held, partly, fully) for line in order.lines.all()]
    barrier = threading.Barrier(5)
    settled: dict[int, list[int]] = {number: [] for number in range(4)}
    errors: list[Exception] = []

    def worker(number: int) -> None:
        # each walks the backlog as the job does, from where its last batch ended
        try:
            barrier.wait(timeout=30)
            after = 0
            while True:
                with transaction.atomic():
                    count, last = services.settle_batch(
                        now=clock.now(), max_orders=2, after_order_id=after
                    )
                    time.sleep(0.05)
                if last is None:
                    break
                after = last
                settled[number].append(count)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    def refunder() -> None:
        # a refund of a matured order lands while the workers run (before or
        # after its settlement: it waits for the order's lock either way)
        try:
            barrier.wait(timeout=30)
            time.sleep(0.1)
            with transaction.atomic():
                refund_order(matured[5], 3300)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(number,)) for number in range(4)]
    threads.append(threading.Thread(target=refunder))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then every due line was settled exactly once, by one of the workers
    assert errors == []
    assert sum(1 for counts in settled.values() if counts) >= 2
    assert sum(sum(counts) for counts in settled.values()) == len(lines) == 27
    assert sorted(LineSettlement.objects.values_list("line_id", flat=True)) == sorted(
        line.pk for line in lines
    )
    assert not LineSettlement.objects.filter(order=not_yet).exists()
    # one settlement entry per order that had money pending (not the fully refunded)
    entries = JournalEntry.objects.filter(kind="settlement")
    assert sorted(entries.values_list("order_id", flat=True)) == sorted(
        order.pk for order in (*matured, held, partly)
    )
    # the held commission stayed held; 990 per line settled, less the refunds' share
    wallet = queries.wallet(sharer)
    assert (wallet["held"], wallet["pending"]) == (990, 990)
    assert wallet["available"] == 990 * 24 + 660 - 330
    assert queries.health()["balanced"] is True
