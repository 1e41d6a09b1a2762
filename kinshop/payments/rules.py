"""Pure rules of payments: no ORM, no HTTP."""

from __future__ import annotations

RETRY_FIRST_SECONDS = 30
RETRY_MAX_SECONDS = 6 * 60 * 60


def retry_delay_seconds(attempt: int) -> int:
    """How long to wait before attempt number `attempt` (1 is the first) of a
    money call at a provider: 30 s, then doubling, never more than six hours. The
    first attempt is made at once; this delay is then how long a process may
    take to carry it out before another one tries again."""
    if attempt < 1:
        raise ValueError("attempts are numbered from 1")
    return min(RETRY_FIRST_SECONDS * 2 ** min(attempt - 1, 30), RETRY_MAX_SECONDS)
