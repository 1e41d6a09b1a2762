"""The outbox: work that leaves the database (a provider's refund call, later
transfers and notifications) is recorded as a task in the transaction that
decides it, and carried out after commit, never while a row is locked.

Tasks are Django's tasks framework (`django-tasks`) on its database backend, so
the task row commits or rolls back with the decision that made it. Then:

- right after commit, the process that recorded it tries it once in-process
  (`KINSHOP_TASKS_EAGER`, on by default), so a sandbox refund is back by the time
  the request answers;
- `kinshop worker` processes (several at once on PostgreSQL) run whatever is
  ready, including retries scheduled with a backoff;
- `kinshop run-jobs` runs whatever is ready too, after the time-driven jobs.

A task claims its row before it runs (a row already claimed is left alone), and
every task must be safe to run twice: a process can die after the money moved
and before the task was marked done.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django_tasks_db.models import DBTaskResult

log = logging.getLogger(__name__)
_local = threading.local()


class InsideTransaction(RuntimeError):
    """A provider was about to be called while a transaction was open."""


def in_transaction(using: str = "default") -> bool:
    """Whether an entry point's transaction is open. A test case's own blocks,
    which wrap a whole test and are rolled back, do not count."""
    blocks = connections[using].atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


def ensure_outside_transaction(what: str, using: str = "default") -> None:
    """Refuse to go on inside a transaction: rows may be locked, and a rollback
    after the call would forget money that has moved."""
    if not getattr(_local, "loading", False) and in_transaction(using):
        raise InsideTransaction(f"{what} inside a transaction")


@contextmanager
def loading_in_one_transaction() -> Iterator[None]:
    """For a loader that builds a whole world in one transaction (the demo) and
    needs its money calls carried out on the way, with in-process providers only
    (the sandbox): lets `run_ready` run inside that transaction."""
    _local.loading = True
    try:
        yield
    finally:
        _local.loading = False


def record(task: Any, *args: Any) -> str:
    """Record `task(*args)` in the caller's transaction; try it right after commit
    when eager running is on. Returns the task result's id."""
    result = task.enqueue(*args)
    if settings.KINSHOP_TASKS_EAGER:
        transaction.on_commit(lambda: run_one(result.id))
    return str(result.id)


def record_later(task: Any, run_after, *args: Any) -> str:
    """Record `task(*args)` to be run by a worker no earlier than `run_after`."""
    return str(task.using(run_after=run_after).enqueue(*args).id)


def _claim(queryset) -> DBTaskResult | None:
    with transaction.atomic():
        row = queryset.select_for_update(skip_locked=True).order_by("enqueued_at", "id").first()
        if row is not None:
            row.claim(f"inline-{os.getpid()}")
    return row


def _run(row: DBTaskResult) -> None:
    result = row.task_result
    try:
        value = row.task.call(*result.args, **result.kwargs)
    except Exception as error:  # recorded on the task row; the task schedules its own retry
        log.exception("task %s (%s) failed", row.pk, row.task_path)
        row.set_failed(error)
    else:
        row.set_successful(value)


def run_one(result_id) -> bool:
    """Run this task now if it is ready and nobody has claimed it. Called after
    commit, outside any transaction."""
    row = _claim(DBTaskResult.objects.ready().filter(pk=result_id))
    if row is None:
        return False
    _run(row)
    return True


def run_ready(limit: int = 1000) -> int:
    """Run the ready tasks one by one, as a worker would, until none is left (or
    `limit`). Returns how many ran. Used by `kinshop run-jobs`, the demo and tests."""
    done = 0
    while done < limit:
        row = _claim(DBTaskResult.objects.ready())
        if row is None:
            break
        _run(row)
        done += 1
    return done
