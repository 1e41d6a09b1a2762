"""`kinshop serve`: its address argument and the C loop and parser uvicorn picks."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from kinshop.ops.management.commands import serve


def test_serve_runs_on_uvloop_and_httptools():
    # Dependencies (pyproject.toml): without them uvicorn's "auto" falls back to
    # asyncio's loop and pure-Python h11, and nothing else would say so.
    assert serve.speedups() == "uvloop event loop, httptools HTTP parser"


@pytest.mark.parametrize(
    ("bind", "expected"),
    [("0.0.0.0:8000", ("0.0.0.0", 8000)), ("8001", ("127.0.0.1", 8001)), ("[::1]:80", ("::1", 80))],
)
def test_bind_takes_host_and_port(bind, expected):
    assert serve.parse_bind(bind) == expected


@pytest.mark.parametrize("bind", ["host:", "host:port", "127.0.0.1:0", "127.0.0.1:65536"])
def test_a_bad_bind_is_refused(bind):
    with pytest.raises(CommandError):
        serve.parse_bind(bind)
