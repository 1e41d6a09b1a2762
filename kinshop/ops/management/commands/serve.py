"""`kinshop serve`: the production server. uvicorn serves the ASGI application
(so live rooms' event streams are async and cheap), static files come from
WhiteNoise inside the application, each process keeps at most
KINSHOP_DB_POOL_SIZE database connections (psycopg's pool, settings.py), and the
listening socket's backlog holds a burst of simultaneous clients instead of
resetting them. uvloop and httptools are dependencies: uvicorn's "auto" picks them
(an event stream's writes and a request's parsing in C, not Python)."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

DEFAULT_BACKLOG = 2048


def parse_bind(bind: str) -> tuple[str, int]:
    """HOST:PORT (or PORT alone, on 127.0.0.1; [::1]:PORT for IPv6)."""
    host, _, port = bind.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--bind takes HOST:PORT, not {bind!r}.")
    return host, int(port)


def speedups() -> str:
    """The event loop and HTTP parser uvicorn's "auto" picks here: uvloop and
    httptools (C; Kinshop's dependencies), else asyncio's loop and pure-Python h11."""
    from importlib.util import find_spec

    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    parser = "httptools" if find_spec("httptools") else "h11"
    return f"{loop} event loop, {parser} HTTP parser"


class Command(BaseCommand):
    help = (
        "Serve Kinshop with uvicorn (ASGI): --bind HOST:PORT, --workers N processes. "
        "Run `kinshop worker` and `kinshop run-jobs` beside it (README, Running in production)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind",
            default=os.environ.get("KINSHOP_BIND", "127.0.0.1:8000"),
            help="HOST:PORT to listen on (default 127.0.0.1:8000, or KINSHOP_BIND).",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("KINSHOP_WEB_WORKERS", "1")),
            help="App processes (default 1, or KINSHOP_WEB_WORKERS); each has its own "
            "connection pool and Redis subscription.",
        )
        parser.add_argument(
            "--backlog",
            type=int,
            default=DEFAULT_BACKLOG,
            help=f"Connections the kernel queues before accepting (default {DEFAULT_BACKLOG}).",
        )
        parser.add_argument(
            "--with-jobs",
            action="store_true",
            help="Also run the time-driven jobs and the ready tasks in this process every "
            "30 s (the demo does; production runs `kinshop run-jobs` and `kinshop worker`).",
        )

    def handle(self, *args, bind: str, workers: int, backlog: int, with_jobs: bool, **options):
        import uvicorn

        host, port = parse_bind(bind)
        if workers < 1:
            raise CommandError("--workers must be at least 1.")
        if with_jobs:
            from kinshop.ops import jobs

            jobs.start_worker(interval_seconds=30)
        self.stdout.write(
            f"Kinshop serving on http://{bind} with {workers} process(es) ({speedups()})."
        )
        uvicorn.run(
            "kinshop.asgi:application",
            host=host,
            port=port,
            workers=workers,
            backlog=backlog,
            # uvloop and httptools (dependencies) when importable, else asyncio and h11.
            loop="auto",
            http="auto",
            lifespan="off",  # Django's ASGI application has no lifespan protocol
            # Behind a proxy (KINSHOP_PROXY_COUNT > 0) trust its X-Forwarded-* headers.
            proxy_headers=True,
            forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            timeout_keep_alive=5,
            timeout_graceful_shutdown=5,
            log_level=os.environ.get("KINSHOP_SERVE_LOG_LEVEL", "warning"),
            access_log=False,
        )
