"""Pure rules of live rooms: no ORM, no HTTP."""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable
from urllib.parse import urlsplit

from kinshop.core.money import apply_rate

MESSAGE_MIN = 1
MESSAGE_MAX = 300
MESSAGE_INTERVAL = dt.timedelta(seconds=1)
EVENT_KINDS = ("message", "pin", "deal", "viewers", "status", "order")
MAX_EVENT_ID = 2**63 - 1


def clean_message(text: str) -> str:
    """The text as kept: surrounding space trimmed, control characters (but
    line breaks) removed. ValueError("message_length") unless 1–300 characters
    remain. HTML stays as typed: it is escaped wherever it is shown."""
    kept = "".join(
        char
        for char in (text or "")
        if char == "\n" or not unicodedata.category(char).startswith("C")
    ).strip()
    if not MESSAGE_MIN <= len(kept) <= MESSAGE_MAX:
        raise ValueError("message_length")
    return kept


def may_speak(*, last_message_at: dt.datetime | None, now: dt.datetime) -> bool:
    """One message a second per viewer."""
    return last_message_at is None or now - last_message_at >= MESSAGE_INTERVAL


def mask_name(name: str) -> str:
    """A buyer as other viewers see them: the first character and two stars,
    whatever the length (王芳 → 王**, amy li → a**), so not even that shows."""
    name = (name or "").strip()
    return (name[0] if name else "") + "**"


def stream_host_allowed(url: str, hosts: Iterable[str]) -> bool:
    """A stream is embedded only from an https host the operator allows (the
    page's Content-Security-Policy frames those hosts and no others)."""
    if not url:
        return True
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host != "" and host in {h.lower() for h in hosts}


def parse_last_event_id(value: str | None) -> int | None:
    """The id a reconnecting viewer last received; None when absent or not an
    id (it then gets events from now on)."""
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if number <= MAX_EVENT_ID else None


def conversion(*, buyers: int, viewers: int) -> float:
    """Buyers ÷ unique viewers, 0 without viewers; a decimal to four places."""
    return round(buyers / viewers, 4) if viewers else 0.0


def sse_frame(*, kind: str, data: dict, event_id: int | None = None) -> str:
    """One Server-Sent Event. JSON keeps every character of the data on one
    line (a newline in a message cannot start a field of its own)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {kind}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


def net_commission(*, line_total: int, refunded: int, rate_bp: int) -> int:
    """A line's commission less what its refunds reversed, as the ledger does it
    (the commission rounded down, each reversal its share rounded down)."""
    commission = apply_rate(line_total, rate_bp)
    if line_total <= 0:
        return 0
    return commission - commission * refunded // line_total
