"""Time-driven trust work, run by `kinshop run-jobs` inside its transaction.
The fraud screens run before settlement (see kinshop/ops/jobs.py), so a line a
rule flags is held before its commission could ever settle."""

from __future__ import annotations

import datetime as dt

from kinshop.core import clock
from kinshop.trust import services


def screen_paid_orders(now: dt.datetime | None = None) -> int:
    """Run the fraud rules on paid orders not screened yet (one batch)."""
    return services.screen_paid_orders(now=now or clock.now())


def screen_refund_patterns(now: dt.datetime | None = None) -> int:
    """Flag pay-then-refund buyers and sharers whose orders are mostly refunded."""
    return services.screen_refund_patterns(now=now or clock.now())


def escalate_complaints(now: dt.datetime | None = None) -> int:
    """Complaints not answered by their deadline go to the operator."""
    return services.escalate_overdue_complaints(now=now or clock.now())
