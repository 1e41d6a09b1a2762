"""Model instances from written-out SQL: for the few reads that run on every
request (a bearer token, the SKUs an order locks), where building and compiling
the queryset costs more than the query itself. Each model's columns are selected
in field order, and each value goes through the converters the ORM would apply
(SQLite's datetimes made aware, its integers made booleans), so an instance is
the same as one the ORM loads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


def columns(model: type[Model], alias: str) -> str:
    """`alias.column, ...` of every concrete field of `model`, in field order:
    what `instance` reads back."""
    quote = connections["default"].ops.quote_name
    return ", ".join(f"{alias}.{quote(str(field.column))}" for field in model._meta.concrete_fields)


def split(row: Sequence[Any], *models: type[Model], using: str = "default") -> list[Any]:
    """One instance of each of `models` from a row that selected their
    `columns` in this order, followed by the row's remaining values."""
    found: list[Any] = []
    start = 0
    for model in models:
        end = start + len(model._meta.concrete_fields)
        found.append(instance(model, row[start:end], using=using))
        start = end
    return [*found, *row[start:]]


def placeholders(count: int) -> str:
    """`%s, %s, ...`: the parameters of an `IN (...)` of `count` values."""
    return ", ".join(["%s"] * count)


def for_update(of: str = "") -> str:
    """The clause that locks the rows read (only those of the table aliased
    `of`, if given) until the transaction ends; nothing on SQLite, where a
    write transaction holds the whole database."""
    features = connections["default"].features
    if of and features.has_select_for_update_of:
        return f" FOR UPDATE OF {of}"
    return " FOR UPDATE" if features.has_select_for_update else ""


def instance(model: type[M], values: Sequence[Any], *, using: str = "default") -> M:
    """An instance of `model` from the values selected by `columns(model, ...)`."""
    connection = connections[using]
    names, converters = _converters(model, connection.vendor, using)
    converted = list(values)
    for index, column, field_converters in converters:
        for convert in field_converters:
            converted[index] = convert(converted[index], column, connection)
    return model.from_db(using, names, converted)


@cache
def _converters(
    model: type[Model], vendor: str, using: str
) -> tuple[list[str], list[tuple[int, Any, list[Converter]]]]:
    connection = connections[using]
    fields = model._meta.concrete_fields
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, column, found))
    return [field.attname for field in fields], converters
