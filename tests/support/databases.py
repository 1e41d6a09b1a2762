"""Fresh, migrated PostgreSQL databases for the tests that run Kinshop in
subprocesses (the browser, crash and live-server tests).

Migrating an empty database takes Kinshop's whole migration history (tens of
seconds on a busy machine); copying a migrated one is a file copy. So the first
database a test process asks for migrates a template, and every later one is
`CREATE DATABASE ... TEMPLATE` of it. The template is dropped when the process
exits; each pytest-xdist worker has its own.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
_template: dict[str, str] = {}  # server URL → the migrated template's name


def with_database(url: str, name: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def _migrate(url: str) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("KINSHOP_", "DJANGO_"))},
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "kinshop.settings",
        "SECRET_KEY": "migrating-a-test-template-database-only-0123456789abcdef",
        "DEBUG": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kinshop", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def _drop(url: str, name: str) -> None:
    with _admin(url) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database(server_url: str, name: str) -> str:
    """A new database `name` on the server of `server_url`, with every
    migration applied (an older one of that name is dropped first). Returns
    its URL."""
    template = _template.get(server_url)
    if template is None:
        template = f"kinshop_template_{os.getpid()}"
        _drop(server_url, template)
        with _admin(server_url) as admin:
            admin.execute(f'CREATE DATABASE "{template}"')
        _migrate(with_database(server_url, template))
        _template[server_url] = template
        atexit.register(_drop, server_url, template)
    _drop(server_url, name)
    with _admin(server_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    _drop(server_url, name)
