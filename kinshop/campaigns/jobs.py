"""Time-driven work of campaigns. Idempotent: run twice, or late, each does the
right thing once. Flash-sale payment deadlines need no job of their own: an
unpaid flash order is an order past its deadline (`expire_unpaid_orders`),
whose cancellation gives its units back to the sale."""

from __future__ import annotations

import datetime as dt

from kinshop.campaigns import services


def decide_groups(now: dt.datetime) -> int:
    return services.decide_groups(now=now)


def unwind_failed_groups(now: dt.datetime) -> int:
    return services.unwind_failed_groups(now=now)
