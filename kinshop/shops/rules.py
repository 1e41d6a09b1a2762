"""Pure rules for shops: handles."""

from __future__ import annotations

import re

_HANDLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,28}[a-z0-9])")
RESERVED_HANDLES = frozenset(
    {
        "admin",
        "api",
        "static",
        "media",
        "me",
        "shop",
        "shops",
        "s",
        "accounts",
        "console",
        "supplier",
        "operator",
        "kinshop",
        "www",
        "help",
    }
)


def handle_problem(handle: str) -> str | None:
    if not _HANDLE.fullmatch(handle):  # not `$`, which lets a trailing newline through
        return "invalid_handle"
    if handle in RESERVED_HANDLES:
        return "handle_reserved"
    return None
