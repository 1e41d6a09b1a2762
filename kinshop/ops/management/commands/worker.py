"""`kinshop worker`: the task worker that carries out recorded money calls.

It is django-tasks' database worker (`db_worker`) under Kinshop's name: run as
many as you like, on PostgreSQL they claim tasks with SKIP LOCKED; on SQLite run
one. The time-driven jobs stay with `kinshop run-jobs` (cron or a loop)."""

from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand


class Command(DatabaseWorkerCommand):
    help = (
        "Run the task worker: carry out the money calls recorded by requests and jobs "
        "(provider refunds), with retries. Several may run at once on PostgreSQL."
    )
