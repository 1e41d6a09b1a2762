"""Every time-driven job, in the order they must run: orders whose deadline
passed are closed before anything is settled; paid orders are screened by the
fraud rules before settlement (a flagged line is held first); live rooms'
viewers hear of their paid orders (if no app process's hub did first); auto-confirmation
comes before settlement so that a long-shipped order settles in the same run when due; money
calls at a provider that are due again go back to the task worker. After the
jobs, the ready tasks of the outbox run once, outside any transaction."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import close_old_connections, connection, transaction

from kinshop.campaigns import jobs as campaign_jobs
from kinshop.core import clock, tasks
from kinshop.insight import jobs as insight_jobs
from kinshop.ledger import jobs as ledger_jobs
from kinshop.live import jobs as live_jobs
from kinshop.orders import jobs as order_jobs
from kinshop.payments import jobs as payment_jobs
from kinshop.trust import jobs as trust_jobs

log = logging.getLogger(__name__)

Job = Callable[[dt.datetime], int]

JOBS: list[tuple[str, Job]] = [
    ("expire_unpaid_orders", order_jobs.expire_unpaid_orders),
    ("refund_lapsed_deposits", payment_jobs.refund_lapsed_deposits),
    ("decide_groups", campaign_jobs.decide_groups),
    ("unwind_failed_groups", campaign_jobs.unwind_failed_groups),
    ("auto_confirm_orders", order_jobs.auto_confirm_orders),
    ("announce_live_orders", live_jobs.announce_paid_orders),
    # Fraud screens before settlement: a flagged line's commission is held
    # before it could settle.
    ("screen_paid_orders", trust_jobs.screen_paid_orders),
    ("screen_refund_patterns", trust_jobs.screen_refund_patterns),
    ("settle", ledger_jobs.settle),
    ("retry_refunds", payment_jobs.retry_refunds),
    ("escalate_complaints", trust_jobs.escalate_complaints),
    ("delete_old_insight_events", insight_jobs.delete_old_events),
]

# Jobs that do all their work in one call and would find work again at once
# (a rollup recomputes its recent days every time): run once per run, after
# every job above has changed what they read.
ONCE: list[tuple[str, Job]] = [
    ("insight_rollup", insight_jobs.roll_up),
]

BATCH_ROUNDS = 1000  # at most 1000 batches of each job per run


def run_due(
    now: dt.datetime | None = None, *, seconds: dict[str, float] | None = None
) -> dict[str, int]:
    """Run every job that is due now, each in its own transactions, until none
    has anything left to do, then the ready tasks. Returns how many items each
    job handled (and how many tasks ran, as `tasks`); when given `seconds`, fills
    it with each job's wall time, commits included (the bench times settlement
    apart from the other jobs this way)."""
    with unprepared():
        return _run_due(now or clock.now(), {} if seconds is None else seconds)


@contextmanager
def unprepared() -> Iterator[None]:
    """Statements run without being prepared on the server (PostgreSQL). A job
    runs the same statements batch after batch with different parameters (a
    batch's order ids); prepared, they would soon run on one plan made for any
    parameters, and settlement took three times as long on such plans. Requests
    keep preparing what they run again (settings.py)."""
    connection.ensure_connection()
    driver = connection.connection
    if connection.vendor != "postgresql" or driver is None:
        yield
        return
    kept = driver.prepare_threshold
    driver.prepare_threshold = None
    try:
        yield
    finally:
        driver.prepare_threshold = kept


def _run_due(now: dt.datetime, timings: dict[str, float]) -> dict[str, int]:
    done: dict[str, int] = {}
    for name, job in JOBS:
        started = time.perf_counter()
        total = 0
        for _ in range(BATCH_ROUNDS):
            with transaction.atomic():
                handled = job(now)
            total += handled
            if handled == 0:
                break
        done[name] = total
        timings[name] = time.perf_counter() - started
    for name, job in ONCE:
        started = time.perf_counter()
        with transaction.atomic():
            done[name] = job(now)
        timings[name] = time.perf_counter() - started
    started = time.perf_counter()
    done["tasks"] = tasks.run_ready()
    timings["tasks"] = time.perf_counter() - started
    return done


def start_worker(interval_seconds: float = 30.0) -> threading.Thread:
    """An in-process worker for the demo: every interval, the due jobs and then the
    ready tasks (production runs `kinshop run-jobs` from cron and `kinshop
    worker` processes instead)."""

    def loop() -> None:
        while True:
            try:
                counts = run_due()
                if any(counts.values()):
                    log.warning("jobs: %s", counts)
            except Exception:  # keep the demo serving; the next round retries
                log.exception("a job failed")
            finally:
                close_old_connections()
            stop.wait(interval_seconds)

    stop = threading.Event()
    thread = threading.Thread(target=loop, name="kinshop-jobs", daemon=True)
    thread.start()
    return thread
