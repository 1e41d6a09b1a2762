"""`kinshop demo`: migrate, seed the demo platform, print its logins and serve it."""

from __future__ import annotations

import unicodedata

from django.core.management import call_command
from django.core.management.base import BaseCommand

from kinshop.demo import data
from kinshop.demo.seed import seed


class Command(BaseCommand):
    help = "Set up a demo platform with believable data, print its logins and serve it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-serve", action="store_true", help="Seed and print the logins, then stop."
        )
        parser.add_argument(
            "--addrport",
            default="127.0.0.1:8000",
            help="Where to serve (default 127.0.0.1:8000).",
        )

    def handle(self, *args, no_serve: bool = False, addrport: str = "127.0.0.1:8000", **options):
        addrport = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        call_command("migrate", interactive=False, verbosity=0)
        if seed():
            self.stdout.write(self.style.SUCCESS("Demo data created."))
        else:
            self.stdout.write("Demo data already there: nothing changed.")
        self.stdout.write("")
        self.stdout.write(login_table(f"http://{addrport}"))
        self.stdout.write("")
        self.stdout.write(
            f"Every demo account uses the password {data.PASSWORD!r}; sign in at "
            f"http://{addrport}/accounts/sign-in/. The API and its docs are at /api/v1/docs."
        )
        if no_serve:
            return
        self.stdout.write(
            "A worker runs every 30 s: the jobs (payment deadlines, auto-confirm, settlement, "
            "refunds to retry), then the recorded money calls that are due."
        )
        # The production server (uvicorn, ASGI: live rooms stream), one process,
        # with the worker in it.
        call_command("serve", bind=addrport, workers=1, with_jobs=True)


def login_table(base_url: str) -> str:
    header = ("Role", "Username", "Password", "Name", "Open")
    rows = [
        (login.role, login.username, data.PASSWORD, login.display_name, login.opens)
        for login in data.logins(base_url)
    ]
    widths = [max(_width(row[column]) for row in [header, *rows]) for column in range(5)]
    lines = [_line(header, widths), "  ".join("-" * width for width in widths)]
    lines += [_line(row, widths) for row in rows]
    return "\n".join(lines)


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(
        cell + " " * (width - _width(cell)) for cell, width in zip(cells, widths, strict=True)
    ).rstrip()


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
