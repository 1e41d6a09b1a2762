"""Money is an integer number of minor units (fen, 分) with a currency code.

Rates are integers in basis points (10000 = 100%). Nothing here uses floats:
every division rounds down explicitly, and callers decide who gets the
remainder, so parts always add up to the whole.
"""

from __future__ import annotations

DEFAULT_CURRENCY = "CNY"
BASIS_POINTS = 10_000

CURRENCY_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def apply_rate(amount: int, rate_bp: int) -> int:
    """The share of `amount` at `rate_bp`, rounded down to the fen."""
    if amount < 0:
        raise ValueError("amount must not be negative")
    if not 0 <= rate_bp <= BASIS_POINTS:
        raise ValueError("rate must be between 0 and 10000 basis points")
    return amount * rate_bp // BASIS_POINTS


def pro_rata(part: int, of_amount: int, whole: int) -> int:
    """`part` scaled by `of_amount / whole`, rounded down (0 when whole is 0)."""
    if whole <= 0:
        return 0
    return part * of_amount // whole


def format_money(amount: int, currency: str = DEFAULT_CURRENCY) -> str:
    """Human form: 9900 → '¥99.00', -330 → '-¥3.30'."""
    sign = "-" if amount < 0 else ""
    units, cents = divmod(abs(amount), 100)
    symbol = CURRENCY_SYMBOLS.get(currency, currency + " ")
    return f"{sign}{symbol}{units:,}.{cents:02d}"


def parse_yuan(text: str) -> int:
    """'99', '99.9', '99.90' → fen, exactly (no float on the way)."""
    text = text.strip().replace(",", "").replace("¥", "")
    if not text:
        raise ValueError("empty amount")
    negative = text.startswith("-")
    if negative:
        text = text[1:]
    units, _, fraction = text.partition(".")
    if not units and not fraction:
        # "-", "." and "-." have no digit at all: not zero, not an amount.
        raise ValueError(f"not an amount: {text!r}")
    if not units.isdigit() and units != "":
        raise ValueError(f"not an amount: {text!r}")
    if fraction and (not fraction.isdigit() or len(fraction) > 2):
        raise ValueError(f"not an amount: {text!r}")
    fen = int(units or "0") * 100 + int((fraction + "00")[:2])
    return -fen if negative else fen
