"""Time-driven payments work, run by `kinshop run-jobs` inside its transaction."""

from __future__ import annotations

import datetime as dt

from kinshop.payments import services


def retry_refunds(now: dt.datetime) -> int:
    """Hand provider refunds that are due again (a retry's delay passed, or the
    process sending one died) back to the task worker."""
    return services.retry_due_refunds(now=now)
