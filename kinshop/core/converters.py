"""Path converters for the pages' URLs.

Django's `int` converter matches any run of digits, so
`/orders/99999999999999999999999/` reached the database with a number no column
can hold: OverflowError on SQLite, a DataError on PostgreSQL, a 500 either way.
`id` matches only what a primary key (a signed 64-bit integer, BigAutoField) can
be; anything larger does not match the pattern, so the answer is a plain 404.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("larger than any primary key")  # the resolver answers 404
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
