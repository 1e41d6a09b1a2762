"""Insight's arithmetic as pure functions: who is a visitor, the four factors of
GMV, Gini and deciles of sharer income, monthly cohorts, periods and CSV. No ORM,
no HTTP: the live report and every chart reuse these."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from kinshop.core.errors import InvalidInput

# -- visitors and bots --

_HASH_MASK = (1 << 63) - 1


def visitor_id(*, user_id: int | None, device_id: str | None) -> int | None:
    """One integer per visitor: a signed-in user's id, else a negative hash of
    the device's first-party id (never 0, never a user id); None when neither is
    known."""
    if user_id:
        return int(user_id)
    if not device_id:
        return None
    digest = hashlib.blake2b(device_id.encode(), digest_size=8).digest()
    return -((int.from_bytes(digest, "big") & _HASH_MASK) or 1)


# Crawlers, link unfurlers of chat apps and scripted clients announce themselves;
# a view from one of them is not a visit. Matched on word boundaries, case aside.
_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|scrap|preview|facebookexternalhit|embedly|"
    r"headless|phantomjs|python-requests|python-urllib|curl/|wget/|httpx|go-http-client|"
    r"okhttp|java/|libwww|lighthouse|pingdom|uptime|monitor",
    re.IGNORECASE,
)


def is_bot(user_agent: str | None) -> bool:
    """True for crawlers, link previews and scripted clients; an empty user agent
    is a script too. Browsers and the in-app browsers of chat apps are people."""
    if not user_agent or not user_agent.strip():
        return True
    return _BOT.search(user_agent) is not None


# -- GMV and its four factors --


@dataclass(frozen=True)
class Factors:
    """GMV = visitors × conversion × orders_per_buyer × aov, with the ratios as
        floats chosen so that the product of the numbers shown, multiplied left to
        right in IEEE doubles, is exactly `gmv` (each ratio within a few ulps of its
    quotient); `exact` gives each as a fraction, whose product is always `gmv`."""

    gmv: int
    visitors: int
    buyers: int
    orders: int
    conversion: float
    orders_per_buyer: float
    aov: float

    @property
    def exact(self) -> dict[str, str]:
        return {
            "conversion": _fraction_text(self.buyers, self.visitors),
            "orders_per_buyer": _fraction_text(self.orders, self.buyers),
            "aov": _fraction_text(self.gmv, self.orders),
        }

    def as_dict(self) -> dict:
        return {
            "gmv": self.gmv,
            "visitors": self.visitors,
            "buyers": self.buyers,
            "orders": self.orders,
            "conversion": self.conversion,
            "orders_per_buyer": self.orders_per_buyer,
            "aov": self.aov,
        }


def _fraction_text(numerator: int, denominator: int) -> str:
    if denominator == 0:
        return "0"
    value = Fraction(numerator, denominator)
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def _ratio(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def factors(*, gmv: int, visitors: int, buyers: int, orders: int) -> Factors:
    """The four factors of GMV. conversion = buyers ÷ visitors, orders_per_buyer
    = orders ÷ buyers, aov = gmv ÷ orders, each the nearest double; then the last
    ulps of aov (and, when needed, of orders_per_buyer) are moved until
    `visitors * conversion * orders_per_buyer * aov == gmv` holds exactly, so the
    identity is true of the very numbers a client reads. Empty factors are 0."""
    if min(gmv, visitors, buyers, orders) < 0:
        raise ValueError("factors are never negative")
    conversion = _ratio(buyers, visitors)
    per_buyer = _ratio(orders, buyers)
    aov = _ratio(gmv, orders)
    if gmv == 0 or visitors == 0 or buyers == 0 or orders == 0:
        return Factors(gmv, visitors, buyers, orders, conversion, per_buyer, aov)
    # The product is evaluated ((visitors × conversion) × orders_per_buyer) × aov.
    # When the middle product is a round number the doubles next to aov may all
    # step over gmv, so the middle product itself is moved an ulp at a time
    # (through orders_per_buyer, then conversion) until some aov lands exactly.
    # In the rare case nothing within a few ulps lands, the nearest doubles are
    # kept (the product is then within an ulp of gmv) and `exact` still holds.
    target = float(gmv)
    for conversion_try in _near(conversion, 2):
        reach = visitors * conversion_try
        for middle_try in _near(reach * per_buyer, 16):
            per_buyer_try = next(
                (p for p in _near(middle_try / reach, 2) if reach * p == middle_try), None
            )
            if per_buyer_try is None:
                continue
            for aov_try in _near(target / middle_try, 2):
                if visitors * conversion_try * per_buyer_try * aov_try == target:
                    return Factors(
                        gmv, visitors, buyers, orders, conversion_try, per_buyer_try, aov_try
                    )
    return Factors(gmv, visitors, buyers, orders, conversion, per_buyer, aov)


def _near(value: float, steps: int) -> list[float]:
    """`value`, then its neighbours one ulp further each time, alternating sides."""
    values, up, down = [value], value, value
    for _ in range(steps):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, -math.inf)
        values += [up, down]
    return values


def change(current: float, previous: float) -> float | None:
    """The relative change against the previous period (0.25 = +25%); None when
    the previous period had nothing to compare with."""
    if previous == 0:
        return None
    return (current - previous) / previous


# -- the Matthew effect: how sharer income is spread --


def gini(incomes: Iterable[int]) -> float:
    """The Gini coefficient of non-negative incomes (a negative net income, a debt
    after refunds, counts as 0): 0 when everyone earns the same (or nobody earns),
    (n − 1)/n when one of n earns everything. Exact in integers, then a float:
    G = (2·Σ i·x_i − (n + 1)·Σx) / (n·Σx) over the incomes sorted ascending, i from 1."""
    values = sorted(max(0, int(value)) for value in incomes)
    count, total = len(values), sum(values)
    if count == 0 or total == 0:
        return 0.0
    weighted = sum(rank * value for rank, value in enumerate(values, start=1))
    return float(Fraction(2 * weighted - (count + 1) * total, count * total))


def decile_bounds(count: int) -> list[tuple[int, int]]:
    """The [start, end) indices of ten groups as even as possible over `count`
    items sorted ascending; some are empty when there are fewer than ten."""
    return [(count * decile // 10, count * (decile + 1) // 10) for decile in range(10)]


def income_deciles(incomes: Iterable[int]) -> list[dict]:
    """Sharers sorted by income, in ten equal groups from the lowest earners up:
    each group's sharers, income (fen) and share of all income."""
    values = sorted(max(0, int(value)) for value in incomes)
    total = sum(values)
    rows = []
    for decile, (start, end) in enumerate(decile_bounds(len(values)), start=1):
        income = sum(values[start:end])
        rows.append(
            {
                "decile": decile,
                "sharers": end - start,
                "income": income,
                "share": _ratio(income, total),
            }
        )
    return rows


def lorenz(incomes: Iterable[int], points: int = 20) -> list[tuple[float, float]]:
    """The Lorenz curve: (share of sharers, share of income they earn) from the
    lowest earners up, at up to `points` + 1 evenly spaced steps from (0, 0) to (1, 1)."""
    values = sorted(max(0, int(value)) for value in incomes)
    count, total = len(values), sum(values)
    if count == 0 or total == 0:
        return [(0.0, 0.0), (1.0, 1.0)]
    prefix = [0]
    for value in values:
        prefix.append(prefix[-1] + value)
    steps = min(points, count)
    return [(step / steps, prefix[count * step // steps] / total) for step in range(steps + 1)]


# -- repurchase cohorts --


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_label(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def cohorts(purchases: Iterable[tuple[int, int]], *, last_month: int | None = None) -> list[dict]:
    """Monthly first-purchase cohorts from (buyer, month index) pairs: each
    buyer's cohort is the month of their first purchase; for each month since
    (0 = the cohort's own month) the buyers of the cohort who bought then, and
    their share of the cohort. Rows run up to `last_month` (default: the last
    month in the data)."""
    months_of: dict[int, set[int]] = defaultdict(set)
    for buyer, month in purchases:
        months_of[buyer].add(month)
    cells: dict[tuple[int, int], int] = defaultdict(int)
    for months in months_of.values():
        first = min(months)
        for month in months:
            cells[first, month] += 1
    return cohort_rows(
        ((cohort, month, buyers) for (cohort, month), buyers in cells.items()),
        last_month=last_month,
    )


def cohort_rows(
    cells: Iterable[tuple[int, int, int]], *, last_month: int | None = None
) -> list[dict]:
    """The cohort table from its cells (cohort month, active month, buyers), as
    the rollup keeps them: a cohort's size is its own month's cell; a month with
    no cell had no buyer of the cohort."""
    by_cohort: dict[int, dict[int, int]] = defaultdict(dict)
    for cohort, month, buyers in cells:
        by_cohort[cohort][month] = buyers
    if not by_cohort:
        return []
    end = (
        last_month if last_month is not None else max(max(months) for months in by_cohort.values())
    )
    rows = []
    for cohort in sorted(by_cohort):
        if cohort > end:
            continue
        months = by_cohort[cohort]
        size = months.get(cohort, 0)
        row = []
        for since in range(end - cohort + 1):
            active = months.get(cohort + since, 0)
            row.append(
                {"months_since": since, "buyers": active, "share": active / size if size else 0.0}
            )
        rows.append({"month": month_label(cohort), "buyers": size, "months": row})
    return rows


# -- periods --


@dataclass(frozen=True)
class Period:
    """Calendar days from `start` to `end`, both included, and the period of the
    same length just before it."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> Period:
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end)


DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"`{name}` is a date like 2026-12-01.", code="invalid_date", field=name
        ) from None


def period(start: str | None, end: str | None, *, today: dt.date) -> Period:
    """The period asked for by `?from=&to=` (ISO dates, both included): `to`
    defaults to today, `from` to 30 days ending at `to`. At most three years."""
    last = _date(end, "to") if end else today
    first = _date(start, "from") if start else last - dt.timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise InvalidInput("`from` comes after `to`.", code="invalid_period")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput("A period is at most three years.", code="invalid_period")
    return Period(first, last)


# -- CSV --


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document: a header row, then the rows. Floats keep every digit (the
    shortest text that reads back as the same double), so the factors multiply
    back to the GMV from the CSV too."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                "" if value is None else repr(value) if isinstance(value, float) else value
                for value in row
            ]
        )
    return out.getvalue()
