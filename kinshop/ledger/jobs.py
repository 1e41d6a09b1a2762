"""Time-driven ledger work, run by `kinshop run-jobs` inside its transaction."""

from __future__ import annotations

import datetime as dt

from kinshop.core import clock
from kinshop.ledger import services

# Where this process's settlement run got to: (the run's `now`, the last order
# of its last batch). `run_due` calls `settle` with one `now` until it returns
# 0, so each batch starts where the previous one ended instead of scanning the
# settled history again; a new run starts from the beginning.
_progress: tuple[dt.datetime, int] | None = None


def settle(now: dt.datetime | None = None) -> int:
    """Move the pending money of orders past their after-sales window to
    available. Safe to run twice or late. Returns the number of lines settled
    by one batch (0 once nothing is left from where this run has got to)."""
    global _progress
    now = now or clock.now()
    after = _progress[1] if _progress is not None and _progress[0] == now else 0
    settled, last = services.settle_batch(now=now, after_order_id=after)
    # A batch can settle nothing and still have claimed orders (every line of
    # them refunded with money still pending, or settled by another worker a
    # moment ago): go on past it, or a run would stop there, and every later
    # run, starting again from the beginning, would stop there too.
    while not settled and last is not None:
        settled, last = services.settle_batch(now=now, after_order_id=last)
    _progress = (now, last) if settled and last is not None else None
    return settled
