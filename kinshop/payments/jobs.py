"""Time-driven payments work, run by `kinshop run-jobs` inside its transaction."""

from __future__ import annotations

import datetime as dt

from kinshop.payments import services


def retry_refunds(now: dt.datetime) -> int:
    """Hand provider refunds that are due again (a retry's delay passed, or the
    process sending one died) back to the task worker."""
    return services.retry_due_refunds(now=now)


def refund_lapsed_deposits(now: dt.datetime) -> int:
    """Cancel pre-sale orders whose balance was not paid in its window and send
    their deposits back."""
    return services.refund_lapsed_deposits(now=now)
