from django.core.management.base import BaseCommand

from kinshop import jobs


class Command(BaseCommand):
    help = "Run every time-driven job that is due now, once, and exit (kinshop run-jobs)."

    def handle(self, *args, **options):
        counts = jobs.run_due()
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
