"""Insight end to end: a known history of views, cart adds, clicks, orders and
refunds across two periods, then every number through the API, in CSV and with
exact query counts that do not grow with the data."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from kinshop import testing
from kinshop.core import clock
from kinshop.insight import rules
from kinshop.insight.tests.conftest import browser, pay, place, view
from kinshop.ops.jobs import run_due
from kinshop.orders.models import Order
from kinshop.testing import assert_query_count

pytestmark = pytest.mark.django_db


def _period():
    today = timezone.localdate(clock.now())
    return {"from": (today - dt.timedelta(days=6)).isoformat(), "to": today.isoformat()}


def test_shop_insight_every_number(api, shop, history):
    response = api(history["keeper"]).get(f"/shops/{shop.handle}/insight", **_period())
    assert response.status_code == 200, response.json()
    body = response.json()
    # A, C and the keeper paid; B placed only; the device visited; the bot is no one.
    assert body["gmv"] == 19800 + 9900 + (9900 - 5000) + 9900
    assert (body["visitors"], body["buyers"], body["orders"]) == (5, 3, 4)
    assert body["conversion"] == 3 / 5
    assert body["orders_per_buyer"] == pytest.approx(4 / 3, rel=1e-15)
    assert body["aov"] == pytest.approx(44500 / 4, rel=1e-15)
    assert body["visitors"] * body["conversion"] * body["orders_per_buyer"] * body["aov"] == 44500
    assert body["exact"] == {"conversion": "3/5", "orders_per_buyer": "4/3", "aov": "11125"}
    assert body["funnel"] == {"views": 4, "carts": 1, "orders": 5, "paid": 4}
    assert body["channels"] == [
        {"channel": "link", "clicks": 1, "orders": 1, "gmv": 19800},
        {"channel": "qr", "clicks": 1, "orders": 0, "gmv": 0},
        {"channel": "live", "clicks": 0, "orders": 0, "gmv": 0},
        {"channel": "offline", "clicks": 0, "orders": 0, "gmv": 0},
    ]
    assert body["repeat_buyer_rate"] == 1 / 3
    assert body["retail_reach_rate"] == 1.0
    assert body["self_purchase_share"] == 1 / 4
    previous = body["previous"]
    assert (previous["gmv"], previous["visitors"], previous["buyers"], previous["orders"]) == (
        9900,
        1,
        1,
        1,
    )
    assert previous["funnel"] == {"views": 1, "carts": 0, "orders": 1, "paid": 1}
    assert body["change"]["gmv"] == (44500 - 9900) / 9900
    assert body["change"]["visitors"] == 4.0


def test_shop_insight_as_csv_has_the_same_numbers(api, shop, history):
    client = api(history["keeper"])
    by_param = client.get(f"/shops/{shop.handle}/insight", format="csv", **_period())
    by_header = client.get(
        f"/shops/{shop.handle}/insight", headers={"Accept": "text/csv"}, **_period()
    )
    assert by_param.status_code == by_header.status_code == 200
    assert by_param["Content-Type"].startswith("text/csv")
    assert by_param.content == by_header.content
    rows = dict(csv.reader(io.StringIO(by_param.content.decode())))
    assert rows["gmv"] == "44500"
    assert rows["visitors"] == "5"
    assert (
        float(rows["conversion"]) * 5 * float(rows["orders_per_buyer"]) * float(rows["aov"])
        == 44500
    )
    assert rows["funnel.views"] == "4"
    assert rows["channels.qr.clicks"] == "1"
    assert rows["channels.link.gmv"] == "19800"
    assert rows["previous.gmv"] == "9900"


def test_sharer_insight_per_link_and_channel(api, history):
    body = api(history["sharer"]).get("/me/insight", **_period()).json()
    assert (body["clicks"], body["orders"], body["gmv"], body["commission"]) == (2, 1, 19800, 1980)
    assert body["links"][0]["code"] == history["link"]["code"]
    code = history["link"]["code"]
    assert body["rows"] == [
        {
            "code": code,
            "channel": "link",
            "clicks": 1,
            "orders": 1,
            "gmv": 19800,
            "commission": 1980,
        },
        {"code": code, "channel": "qr", "clicks": 1, "orders": 0, "gmv": 0, "commission": 0},
    ]
    link = next(row for row in body["channels"] if row["channel"] == "link")
    assert link == {"channel": "link", "clicks": 1, "orders": 1, "gmv": 19800, "commission": 1980}
    as_csv = api(history["sharer"]).get("/me/insight", format="csv", **_period())
    assert as_csv.content.decode().splitlines() == [
        "code,channel,clicks,orders,gmv,commission",
        f"{code},link,1,1,19800,1980",
        f"{code},qr,1,0,0,0",
    ]


def test_platform_insight_for_operators_only(api, history):
    body = api(history["operator"]).get("/insight/platform", **_period()).json()
    assert (body["gmv"], body["visitors"], body["buyers"], body["orders"]) == (44500, 5, 3, 4)
    assert body["commission_levels"] == 1
    assert body["sharers"] == 1
    assert body["sharer_income"] == 1980
    assert body["sharer_income_gini"] == 0.0
    assert body["income_deciles"][-1] == {"decile": 10, "sharers": 1, "income": 1980, "share": 1.0}
    assert body["retail_reach_rate"] == 1.0
    assert body["self_purchase_share"] == 1 / 4
    assert api(history["keeper"]).get("/insight/platform").status_code == 403
    assert api().get("/insight/platform").status_code == 401


def test_cohorts_of_first_purchases(api, shop, history):
    body = api(history["keeper"]).get(f"/shops/{shop.handle}/insight/cohorts").json()
    today = timezone.localdate(clock.now())
    then = today - dt.timedelta(days=10)
    now_month, then_month = rules.month_index(today), rules.month_index(then)
    if now_month == then_month:
        # A, C and the keeper all first bought this month
        assert body["cohorts"][-1]["buyers"] == 3
        assert body["cohorts"][-1]["months"] == [{"months_since": 0, "buyers": 3, "share": 1.0}]
    else:
        first, second = body["cohorts"][-2:]
        assert (first["month"], first["buyers"]) == (rules.month_label(then_month), 1)
        assert first["months"] == [
            {"months_since": 0, "buyers": 1, "share": 1.0},
            {"months_since": 1, "buyers": 1, "share": 1.0},
        ]
        assert (second["month"], second["buyers"]) == (rules.month_label(now_month), 2)


def test_who_may_see_a_shops_insight(api, shop, history):
    assert api(history["operator"]).get(f"/shops/{shop.handle}/insight").status_code == 200
    assert api(history["sharer"]).get(f"/shops/{shop.handle}/insight").status_code == 403
    assert api(history["sharer"]).get(f"/shops/{shop.handle}/insight/cohorts").status_code == 403
    assert api(history["keeper"]).get("/shops/no-such-shop/insight").status_code == 404
    assert api().get(f"/shops/{shop.handle}/insight").status_code == 401
    bad = api(history["keeper"]).get(f"/shops/{shop.handle}/insight", **{"from": "yesterday"})
    assert bad.status_code == 422
    backwards = api(history["keeper"]).get(
        f"/shops/{shop.handle}/insight", **{"from": "2026-02-01", "to": "2026-01-01"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["code"] == "invalid_period"


def test_rollup_twice_or_late_gives_the_same_numbers(api, shop, history):
    client = api(history["keeper"])
    first = client.get(f"/shops/{shop.handle}/insight", **_period()).json()
    run_due(clock.now())
    with clock.travel(dt.timedelta(days=5)):
        run_due(clock.now())
    assert client.get(f"/shops/{shop.handle}/insight", **_period()).json() == first


def test_insight_query_counts_do_not_grow_with_the_data(api, shop, history, product):
    keeper, sharer, operator = history["keeper"], history["sharer"], history["operator"]
    clients = {"keeper": api(keeper), "sharer": api(sharer), "operator": api(operator)}

    def counts():
        # the token (1), the shop (1), then the rollups
        with assert_query_count(1 + 1 + 6):
            clients["keeper"].get(f"/shops/{shop.handle}/insight")
        with assert_query_count(1 + 1 + 1):
            clients["keeper"].get(f"/shops/{shop.handle}/insight/cohorts")
        with assert_query_count(1 + 2):
            clients["sharer"].get("/me/insight")
        # the last 30 days: the job's snapshot (1), channels and incomes (2)
        with assert_query_count(1 + 3):
            clients["operator"].get("/insight/platform")
        # any other period: no snapshot (1), counted from the rollups (5 + 2)
        with assert_query_count(1 + 8):
            clients["operator"].get(
                "/insight/platform", **{"from": "2026-01-01", "to": "2026-01-20"}
            )

    counts()
    # ten times the history: the same number of queries
    sku = product.skus.get()
    for _ in range(10):
        buyer = testing.make_user()
        view(browser(buyer), shop, product)
        pay(api, buyer, place(api, buyer, shop, sku)["id"])
    run_due(clock.now())
    counts()


def test_events_past_their_retention_are_deleted_and_rollups_keep_them(
    api, shop, product, settings, history
):
    settings.KINSHOP_INSIGHT_EVENT_RETENTION_DAYS = 5
    client = api(history["keeper"])
    since = {"from": (timezone.localdate(clock.now()) - dt.timedelta(days=20)).isoformat()}
    before = client.get(f"/shops/{shop.handle}/insight", **since).json()
    run_due(clock.now())
    from kinshop.insight.models import Event

    assert not Event.objects.filter(day__lt=timezone.localdate(clock.now()) - dt.timedelta(days=5))
    after = client.get(f"/shops/{shop.handle}/insight", **since).json()
    assert after["funnel"] == before["funnel"]
    assert after["visitors"] == before["visitors"]


def test_an_app_reports_events(api, shop, product, history):
    client = api(history["a"])
    assert client.post(
        "/insight/events", {"kind": "view", "shop": shop.handle, "product_id": product.id}
    ).json() == {"recorded": True}
    assert client.post("/insight/events", {"kind": "buy", "shop": shop.handle}).status_code == 422
    assert client.post("/insight/events", {"kind": "view", "shop": "nope"}).status_code == 404


def test_the_platform_snapshot_matches_counting_from_the_rollups(api, history):
    from kinshop.insight import queries
    from kinshop.insight.models import PlatformSnapshot

    client = api(history["operator"])
    for days in (7, 30, 90):
        today = timezone.localdate(clock.now())
        period = {
            "from": (today - dt.timedelta(days=days - 1)).isoformat(),
            "to": today.isoformat(),
        }
        from_snapshot = client.get("/insight/platform", **period).json()
        assert PlatformSnapshot.objects.filter(start=period["from"]).exists()
        PlatformSnapshot.objects.filter(start=period["from"]).delete()
        counted = client.get("/insight/platform", **period).json()
        assert from_snapshot == counted
        assert counted["gmv"] == (44500 if days < 10 else 44500 + 9900)
    assert queries.today() == timezone.localdate(clock.now())


def test_supplier_insight_for_its_staff_and_operators(api, supplier_pair, history):
    supplier, staff = supplier_pair
    body = api(staff).get(f"/suppliers/{supplier.id}/insight", **_period()).json()
    # its lines in A's, C's and the keeper's paid orders, net of the refund
    assert (body["gmv"], body["orders"], body["units"]) == (44500, 4, 5)
    assert body["aov"] == 44500 / 4
    assert (body["previous"]["gmv"], body["previous"]["orders"]) == (9900, 1)
    assert body["retail_reach_rate"] == 1.0
    assert api(history["operator"]).get(f"/suppliers/{supplier.id}/insight").status_code == 200
    assert api(history["keeper"]).get(f"/suppliers/{supplier.id}/insight").status_code == 403
    assert api(staff).get("/suppliers/999999/insight").status_code == 404
    client = api(staff)
    with assert_query_count(1 + 1 + 1 + 2):  # token, supplier, staff check, the rollups
        client.get(f"/suppliers/{supplier.id}/insight")


def test_a_run_at_a_later_moment_hides_nothing_that_happens_afterwards(
    api, shop, product, supplier_pair, history
):
    # given a rollup as of ten days from now
    _, staff = supplier_pair
    sku = product.skus.get()
    later = clock.now() + dt.timedelta(days=10)
    run_due(later)
    client = api(history["keeper"])
    before = client.get(f"/shops/{shop.handle}/insight", **_period()).json()
    # when, back in real time, one more order is paid and an old one refunded
    buyer = testing.make_user()
    pay(api, buyer, place(api, buyer, shop, sku)["id"])
    old = Order.objects.filter(shop=shop, refunded_amount=0, paid_at__isnull=False).earliest("id")
    refund = api(history["operator"]).post(
        f"/orders/{old.id}/refunds", {"amount": 100, "reason": "late"}
    )
    assert api(staff).post(f"/refunds/{refund.json()['id']}/approve").status_code == 200
    run_due(later + dt.timedelta(hours=1))
    # then the next run sees both
    after = client.get(f"/shops/{shop.handle}/insight", **_period()).json()
    previous_gmv_drop = 100 if old.paid_at < clock.now() - dt.timedelta(days=7) else 0
    assert after["orders"] == before["orders"] + 1
    assert after["gmv"] == before["gmv"] + 9900 - (100 - previous_gmv_drop)
    assert after["previous"]["gmv"] == before["previous"]["gmv"] - previous_gmv_drop
