"""Insight and the linked-identity rules (issue 10): a link's orders and GMV are
only those it earned on, and a shop's or the platform's self-purchase share is
the compliance report's, read from the rollups."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kinshop import testing
from kinshop.core import clock
from kinshop.ledger import queries as ledger_queries
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order

pytestmark = pytest.mark.django_db

SHARER_PHONE = "13900000001"


def address(phone: str) -> dict:
    return {"name": "小明", "phone": phone, "region": "浙江省杭州市", "detail": "文一西路 1 号"}


def buy(api, buyer, shop, sku, *, phone: str, code: str = "") -> int:
    body = {"shop": shop.handle, "lines": [{"sku_id": sku.id, "quantity": 1}]}
    body["address"] = address(phone)
    if code:
        body["share_code"] = code
    client = api(buyer)
    placed = client.post("/orders", body)
    assert placed.status_code == 201, placed.json()
    order_id = placed.json()["id"]
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    assert client.post(f"/payments/{payment['id']}/sandbox-confirm").status_code == 200
    return order_id


@pytest.fixture
def bought(api, shop, product, operator):
    """A sharer buys through their own link, their second account (same phone)
    through it, the keeper in their own shop, and a stranger through the link."""
    sku = product.skus.get()
    sharer = testing.make_user("sharer-s", phone=SHARER_PHONE)
    twin = testing.make_user("sharer-twin")
    stranger = testing.make_user("stranger", phone="13600000006")
    code = api(sharer).post("/share-links", {"shop": shop.handle}).json()["code"]
    buy(api, sharer, shop, sku, phone=SHARER_PHONE, code=code)
    buy(api, twin, shop, sku, phone="13900000001", code=code)
    buy(api, shop.owner, shop, sku, phone="13500000009")
    normal = buy(api, stranger, shop, sku, phone="13600000006", code=code)
    run_due(clock.now())
    return {"sharer": sharer, "code": code, "normal": Order.objects.get(pk=normal)}


def _today() -> dict:
    today = timezone.localdate(clock.now())
    return {"from": today.isoformat(), "to": today.isoformat()}


def _day_bounds() -> tuple[dt.datetime, dt.datetime]:
    today = timezone.localdate(clock.now())
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    return start, start + dt.timedelta(days=1)


def test_shop_self_purchase_share_is_the_compliance_reports(api, shop, operator, bought):
    body = api(shop.owner).get(f"/shops/{shop.handle}/insight", **_today()).json()
    since, until = _day_bounds()
    ledger = ledger_queries.self_purchases(shop_id=shop.pk, since=since, until=until)

    assert body["orders"] == 4
    assert (ledger["own_link_orders"], ledger["linked_identity_orders"]) == (1, 1)
    assert ledger["shopkeeper_own_orders"] == 1
    assert body["self_purchase_share"] == ledger["self_purchase_share"] == 3 / 4
    report = api(operator).get("/compliance/report").json()
    assert report["self_purchase_share"] == 3 / 4


def test_platform_self_purchase_share_is_the_compliance_reports(api, operator, bought):
    report = api(operator).get("/compliance/report").json()
    body = api(operator).get("/insight/platform", **_today()).json()
    snapshot = api(operator).get("/insight/platform").json()  # the last 7 days, snapshotted

    assert body["self_purchase_share"] == report["self_purchase_share"] == 3 / 4
    assert snapshot["self_purchase_share"] == 3 / 4


def test_a_sharers_link_counts_only_the_orders_it_earned_on(api, bought):
    body = api(bought["sharer"]).get("/me/insight", **_today()).json()
    normal = bought["normal"]

    assert [(link["code"], link["orders"]) for link in body["links"]] == [(bought["code"], 1)]
    assert body["orders"] == 1
    assert body["gmv"] == normal.total
    assert body["commission"] > 0


def test_wholesale_orders_are_no_self_purchases_in_either(api, shop, operator, bought):
    Order.objects.filter(buyer=shop.owner).update(is_wholesale=True)
    run_due(clock.now())
    body = api(shop.owner).get(f"/shops/{shop.handle}/insight", **_today()).json()
    since, until = _day_bounds()
    ledger = ledger_queries.self_purchases(shop_id=shop.pk, since=since, until=until)

    assert body["self_purchase_share"] == ledger["self_purchase_share"] == 2 / 3
