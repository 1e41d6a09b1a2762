"""The building blocks of every insight chart: a named table of exactly the
numbers a chart draws, which the page hands to ECharts as JSON and serves as
CSV (`?format=csv&chart=<name>`). The live report builds its tables the same way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kinshop.insight import rules


@dataclass(frozen=True)
class Table:
    name: str
    columns: Sequence[str]
    rows: list[list] = field(default_factory=list)
    kind: str = "bar"  # how the page draws it: bar, funnel, line, heatmap, lorenz, tiles

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "columns": list(self.columns),
            "rows": self.rows,
        }

    def csv(self) -> str:
        return rules.to_csv(self.columns, self.rows)


FACTOR_ROWS = ("gmv", "visitors", "conversion", "orders_per_buyer", "aov")


def factor_table(data: dict) -> Table:
    """GMV and its four factors, this period, the previous one and the change."""
    previous, change = data["previous"], data["change"]
    return Table(
        "factors",
        ("metric", "value", "previous", "change"),
        [[name, data[name], previous[name], change[name]] for name in FACTOR_ROWS],
        kind="tiles",
    )


def funnel_table(data: dict) -> Table:
    funnel = data["funnel"]
    return Table(
        "funnel",
        ("step", "count"),
        [[step, funnel[step]] for step in ("views", "carts", "orders", "paid")],
        kind="funnel",
    )


def channel_table(data: dict, *, with_commission: bool = False) -> Table:
    keys = ("clicks", "orders", "gmv") + (("commission",) if with_commission else ())
    return Table(
        "channels",
        ("channel", *keys),
        [[row["channel"], *(row[key] for key in keys)] for row in data["channels"]],
    )


def cohort_table(data: dict) -> Table:
    """One row per cohort and month since: the heat map's cells."""
    return Table(
        "cohorts",
        ("month", "cohort_buyers", "months_since", "buyers", "share"),
        [
            [cohort["month"], cohort["buyers"], cell["months_since"], cell["buyers"], cell["share"]]
            for cohort in data["cohorts"]
            for cell in cohort["months"]
        ],
        kind="heatmap",
    )


def link_table(data: dict) -> Table:
    keys = ("clicks", "orders", "gmv", "commission")
    return Table(
        "links",
        ("code", "title", *keys),
        [[link["code"], link["title"], *(link[key] for key in keys)] for link in data["links"]],
    )


def lorenz_table(data: dict) -> Table:
    return Table(
        "lorenz",
        ("sharers_share", "income_share"),
        [list(p) for p in data["lorenz"]],
        kind="lorenz",
    )


def decile_table(data: dict) -> Table:
    return Table(
        "deciles",
        ("decile", "sharers", "income", "share"),
        [
            [row["decile"], row["sharers"], row["income"], row["share"]]
            for row in data["income_deciles"]
        ],
    )


def shop_tables(data: dict, cohorts: dict) -> dict[str, Table]:
    tables = [factor_table(data), funnel_table(data), channel_table(data), cohort_table(cohorts)]
    return {table.name: table for table in tables}


def sharer_tables(data: dict) -> dict[str, Table]:
    tables = [link_table(data), channel_table(data, with_commission=True)]
    return {table.name: table for table in tables}


def platform_tables(data: dict) -> dict[str, Table]:
    tables = [
        factor_table(data),
        funnel_table(data),
        channel_table(data),
        lorenz_table(data),
        decile_table(data),
    ]
    return {table.name: table for table in tables}


def flat_table(data: dict, *, skip: Sequence[str] = ()) -> Table:
    """An API answer as one CSV table of `key, value` rows, nested objects and
    lists flattened with dotted keys (`funnel.views`, `channels.qr.clicks`)."""
    rows: list[list] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                label = str(index + 1)
                if isinstance(item, dict):
                    named = [
                        str(item[k]) for k in ("code", "channel", "month", "decile") if item.get(k)
                    ]
                    label = "/".join(named) or label
                walk(f"{prefix}.{label}", item)
        else:
            rows.append([prefix, value.isoformat() if hasattr(value, "isoformat") else value])

    walk("", {key: value for key, value in data.items() if key not in skip})
    return Table("data", ("key", "value"), rows)
