"""Time-driven live-room work, run by `kinshop run-jobs` inside its transaction."""

from __future__ import annotations

import datetime as dt

from kinshop.core import clock
from kinshop.live import services


def announce_paid_orders(now: dt.datetime | None = None) -> int:
    """Tell rooms' viewers about their orders paid since (one batch); each
    app process's live hub does the same every second for its rooms."""
    return services.announce_paid_orders(now or clock.now())
