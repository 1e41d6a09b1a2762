"""The rollups count each order on its local calendar day (Asia/Shanghai),
whatever the hour in UTC: an order paid just after local midnight (16:30 UTC
the day before) is today's, one paid just before it is yesterday's, and a later
run of the job keeps both where they are, on either database."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kinshop import testing
from kinshop.core import clock
from kinshop.insight.models import ShopDay
from kinshop.insight.tests.conftest import pay, place
from kinshop.ops.jobs import run_due

pytestmark = pytest.mark.django_db


def _local(days_ago: int, hour: int, minute: int) -> dt.datetime:
    day = timezone.localdate(clock.now()) - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _days(shop) -> dict[dt.date, tuple[int, int]]:
    return {
        row.day: (row.orders, row.gmv)
        for row in ShopDay.objects.filter(shop_id=shop.id, orders__gt=0)
    }


def test_orders_either_side_of_local_midnight_stay_on_their_local_days(api, shop, settings):
    # Each run recomputes only the days since the previous one (here: today).
    settings.KINSHOP_INSIGHT_RECOMPUTE_DAYS = 1
    sku = shop.selections.get().product.skus.get()
    buyer = testing.make_user("night_owl")
    just_after = _local(2, 0, 30)  # 16:30 UTC the day before
    today = just_after.date()
    with clock.travel(just_after - dt.timedelta(hours=1) - clock.now()):  # 23:30 local
        pay(api, buyer, place(api, buyer, shop, sku)["id"])
        run_due(clock.now())
    with clock.travel(just_after - clock.now()):
        pay(api, buyer, place(api, buyer, shop, sku, quantity=2)["id"])
        run_due(clock.now())
        first = _days(shop)
    with clock.travel(just_after + dt.timedelta(hours=2) - clock.now()):
        run_due(clock.now())
        again = _days(shop)

    price = shop.selections.get().prices.get().retail_price
    assert first == {today - dt.timedelta(days=1): (1, price), today: (1, 2 * price)}
    assert again == first
