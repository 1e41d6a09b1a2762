"""Bench databases on PG_URL's server: `python -m bench.db recreate NAME...`,
`python -m bench.db drop NAME...`, `python -m bench.db url NAME` (prints the URL
of database NAME on the same server)."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg


# Only bench databases may be dropped (a typo must never drop someone else's):
# `kinshop_bench` and `kinshop_pgbench`, or others' names ending in `_bench` and
# `_pgbench` (BENCH_DB and BENCH_PGBENCH_DB, for several benches on one server).
def _is_bench_database(name: str) -> bool:
    return name.endswith(("_bench", "_pgbench")) and name.replace("_", "").isalnum()


def url_for(pg_url: str, name: str) -> str:
    parts = urlsplit(pg_url)
    scheme = "postgresql" if parts.scheme in ("postgres", "postgresql") else parts.scheme
    return urlunsplit((scheme, parts.netloc, "/" + name, parts.query, ""))


def _admin(pg_url: str) -> psycopg.Connection:
    return psycopg.connect(url_for(pg_url, "postgres"), autocommit=True, connect_timeout=5)


def drop(pg_url: str, names: list[str]) -> None:
    with _admin(pg_url) as connection:
        for name in names:
            if not _is_bench_database(name):
                raise SystemExit(f"refusing to drop {name!r}: not a bench database")
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def recreate(pg_url: str, names: list[str]) -> None:
    drop(pg_url, names)
    with _admin(pg_url) as connection:
        for name in names:
            connection.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str]) -> None:
    import os

    pg_url = os.environ["PG_URL"]
    command, names = argv[0], argv[1:]
    if command == "url":
        print(url_for(pg_url, names[0]))
    elif command == "recreate":
        recreate(pg_url, names)
    elif command == "drop":
        drop(pg_url, names)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
