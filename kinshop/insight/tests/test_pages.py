"""The insight pages show the same numbers as the API, each chart's CSV holds
exactly its numbers, and only the right people get in."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from kinshop.core import clock
from kinshop.testing import assert_query_count

pytestmark = pytest.mark.django_db


def _period():
    today = timezone.localdate(clock.now())
    return {"from": (today - dt.timedelta(days=6)).isoformat(), "to": today.isoformat()}


def signed_in(user, language: str = "en") -> Client:
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(user)
    return client


def chart_data(html: str, name: str) -> dict:
    found = re.search(
        rf'<script id="chart-data-{name}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"no data block for {name}"
    return json.loads(found.group(1))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_shop_page_shows_the_factors_and_every_chart_downloads_its_numbers(history):
    client = signed_in(history["keeper"])
    response = client.get("/console/shop/insight/", _period())
    assert response.status_code == 200
    html = response.content.decode()
    tiles = re.findall(
        r'data-testid="tile-(\w+)">.*?<div class="stat-value">(.*?)</div>', html, re.S
    )
    assert dict(tiles) == {
        "gmv": "¥445.00",
        "visitors": "5",
        "conversion": "60.0%",
        "orders_per_buyer": "1.33",
        "aov": "¥111.25",
    }
    assert "Exactly: 5 visitors × 3/5 × 4/3 × 11125 fen = 44500 fen." in html
    assert "<script>" not in html  # no inline script: the data sit in JSON blocks
    funnel = chart_data(html, "funnel")
    assert funnel["rows"] == [["views", 4], ["carts", 1], ["orders", 5], ["paid", 4]]
    assert csv_rows(
        client.get("/console/shop/insight/", {**_period(), "format": "csv", "chart": "funnel"})
    ) == [
        ["step", "count"],
        ["views", "4"],
        ["carts", "1"],
        ["orders", "5"],
        ["paid", "4"],
    ]
    channels = csv_rows(
        client.get("/console/shop/insight/", {**_period(), "format": "csv", "chart": "channels"})
    )
    assert channels[:3] == [
        ["channel", "clicks", "orders", "gmv"],
        ["link", "1", "1", "19800"],
        ["qr", "1", "0", "0"],
    ]
    assert [row[0] for row in channels[1:]] == ["link", "qr", "live", "offline"]
    factors = csv_rows(
        client.get("/console/shop/insight/", {**_period(), "format": "csv", "chart": "factors"})
    )
    values = {row[0]: row[1:] for row in factors[1:]}
    assert values["gmv"] == ["44500", "9900", repr((44500 - 9900) / 9900)]
    assert (
        float(values["visitors"][0])
        * float(values["conversion"][0])
        * float(values["orders_per_buyer"][0])
        * float(values["aov"][0])
        == 44500
    )
    cohorts = csv_rows(
        client.get("/console/shop/insight/", {**_period(), "format": "csv", "chart": "cohorts"})
    )
    assert cohorts[0] == ["month", "cohort_buyers", "months_since", "buyers", "share"]
    assert chart_data(html, "cohorts")["rows"] == [
        [row[0], int(row[1]), int(row[2]), int(row[3]), float(row[4])] for row in cohorts[1:]
    ]
    assert (
        client.get("/console/shop/insight/", {"format": "csv", "chart": "nope"}).status_code == 404
    )


def test_sharer_page_per_link_and_channel(history):
    client = signed_in(history["sharer"])
    html = client.get("/me/insight/", _period()).content.decode()
    assert re.search(r'data-testid="sharer-clicks">2<', html)
    assert re.search(r'data-testid="sharer-commission">¥19.80<', html)
    code = history["link"]["code"]
    assert (
        csv_rows(client.get("/me/insight/", {**_period(), "format": "csv", "chart": "links"}))[1][0]
        == code
    )
    channels = csv_rows(
        client.get("/me/insight/", {**_period(), "format": "csv", "chart": "channels"})
    )
    assert channels[1] == ["link", "1", "1", "19800", "1980"]


def test_platform_page_for_operators_only(history):
    operator = signed_in(history["operator"])
    html = operator.get("/console/insight/", _period()).content.decode()
    assert re.search(r'data-testid="commission-levels">1<', html)
    assert re.search(r'data-testid="gini">0.000<', html)
    deciles = csv_rows(
        operator.get("/console/insight/", {**_period(), "format": "csv", "chart": "deciles"})
    )
    assert deciles[-1] == ["10", "1", "1980", "1.0"]
    lorenz = csv_rows(
        operator.get("/console/insight/", {**_period(), "format": "csv", "chart": "lorenz"})
    )
    assert lorenz[1:] == [["0.0", "0.0"], ["1.0", "1.0"]]
    assert signed_in(history["keeper"]).get("/console/insight/").status_code == 403
    assert Client().get("/console/insight/").status_code == 302  # to sign in


def test_a_bad_period_is_a_clear_422_in_both_languages(history):
    response = signed_in(history["keeper"]).get("/console/shop/insight/", {"from": "2026-13-01"})
    assert response.status_code == 422
    assert "Enter dates like 2026-12-01." in response.content.decode()
    chinese = signed_in(history["keeper"], "zh-hans").get(
        "/console/shop/insight/", {"from": "2026-13-01"}
    )
    assert "请按 2026-12-01 的格式输入日期。" in chinese.content.decode()
    page = signed_in(history["keeper"], "zh-hans").get("/console/shop/insight/").content.decode()
    assert "经营分析" in page and "转化率" in page


def test_insight_pages_query_counts(history):
    keeper, sharer, operator = (
        signed_in(history[name]) for name in ("keeper", "sharer", "operator")
    )
    # session + user (2), the shop (1), 6 rollup reads + 1 for cohorts, the cart badge and roles
    with assert_query_count(12):
        keeper.get("/console/shop/insight/")
    with assert_query_count(6):
        sharer.get("/me/insight/")
    # the platform's usual periods come from the job's snapshot
    with assert_query_count(7):
        operator.get("/console/insight/")


def test_operators_read_the_rollups_in_the_admin_and_cannot_change_them(history):
    superuser = signed_in(history["operator"])
    history["operator"].is_superuser = True
    history["operator"].save()
    for model in ("shopday", "trafficday", "buyerday", "linkday"):
        listing = superuser.get(f"/admin/insight/{model}/")
        assert listing.status_code == 200, model
        assert superuser.get(f"/admin/insight/{model}/add/").status_code == 403
    days = superuser.get("/admin/insight/shopday/").content.decode()
    assert "44500" in days or "44,500" in days  # today's paid GMV of the shop
