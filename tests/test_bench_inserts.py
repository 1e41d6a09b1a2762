"""The bench builds its large data sets with INSERTs written in SQL (bench/*.py):
each must name every column its table requires, or the next `make bench`
fails on a NOT NULL column a migration added since. Checked against the models,
so a new required field shows up here, not in a bench run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db.models import NOT_PROVIDED

BENCH = Path(__file__).resolve().parents[1] / "bench"
INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)", re.IGNORECASE)


def _inserts() -> list[tuple[str, str, set[str]]]:
    """Every INSERT into one of Kinshop's tables (not the bench's scratch tables)."""
    tables = {model._meta.db_table for model in apps.get_models()}
    found = []
    for path in sorted(BENCH.glob("*.py")):
        for match in INSERT.finditer(path.read_text()):
            if match.group(1) not in tables:
                continue
            columns = {column.strip() for column in match.group(2).split(",")}
            found.append((path.name, match.group(1), columns))
    return found


def _required_columns(table: str) -> set[str]:
    (model,) = (m for m in apps.get_models() if m._meta.db_table == table)
    return {
        field.column
        for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.db_default is NOT_PROVIDED
    }


def test_the_bench_writes_rows_in_sql():
    tables = {table for _, table, _ in _inserts()}
    assert {"orders_order", "orders_orderline", "shops_shop", "sharing_click"} <= tables


@pytest.mark.parametrize(
    ("source", "table", "columns"),
    _inserts(),
    ids=[f"{source}:{table}" for source, table, _ in _inserts()],
)
def test_each_bench_insert_names_every_required_column(source, table, columns):
    missing = _required_columns(table) - columns
    assert not missing, f"{source}: INSERT INTO {table} leaves out {sorted(missing)}"
