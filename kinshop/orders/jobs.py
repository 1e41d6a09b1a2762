"""Time-driven work of orders. Each job is idempotent: running it twice, or
late, does the right thing once."""

from __future__ import annotations

import datetime as dt

from kinshop.orders import services


def expire_unpaid_orders(now: dt.datetime) -> int:
    return services.expire_unpaid(now=now)


def auto_confirm_orders(now: dt.datetime) -> int:
    return services.auto_confirm(now=now)
