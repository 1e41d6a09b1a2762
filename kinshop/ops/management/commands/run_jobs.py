import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from kinshop.core import clock
from kinshop.ops import jobs


def _moment(text: str) -> dt.datetime:
    moment = parse_datetime(text)
    if moment is None:
        raise CommandError(
            f"--at takes an ISO 8601 moment such as 2026-12-24T10:00:00+08:00, not {text!r}."
        )
    if moment.tzinfo is None:
        raise CommandError("--at needs a time zone offset, such as +08:00.")
    return moment


class Command(BaseCommand):
    help = (
        "Run every time-driven job that is due now (or --at a later moment), once, and exit "
        "(kinshop run-jobs)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--at",
            type=_moment,
            default=None,
            help="Run the jobs as of this moment (ISO 8601 with an offset); it cannot be earlier than now.",
        )

    def handle(self, *args, **options):
        now = clock.now()
        at = options["at"] or now
        if at < now:
            raise CommandError("--at cannot be earlier than now: jobs never rewrite the past.")
        counts = jobs.run_due(at)
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
