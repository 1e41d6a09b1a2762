"""Time-driven ledger work, run by `kinshop run-jobs` inside its transaction."""

from __future__ import annotations

import datetime as dt

from kinshop.core import clock
from kinshop.ledger import services


def settle(now: dt.datetime | None = None) -> int:
    """Move the pending money of orders past their after-sales window to
    available. Safe to run twice or late. Returns the number of lines settled."""
    return services.settle_due(now=now or clock.now())
