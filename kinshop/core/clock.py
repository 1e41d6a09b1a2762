"""The one source of 'now' for business rules.

Jobs and windows ask `clock.now()`, so tests (and the demo) can move time
forward without sleeping and without patching Django internals.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_offset = dt.timedelta(0)


def now() -> dt.datetime:
    return timezone.now() + _offset


@contextlib.contextmanager
def travel(delta: dt.timedelta) -> Iterator[None]:
    """Run the block as if `delta` had passed (tests and demo data only)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
