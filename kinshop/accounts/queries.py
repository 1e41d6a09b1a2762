"""Reads of accounts."""

from __future__ import annotations

from functools import cache

from django.db import connection

from kinshop.accounts.models import ApiToken, User
from kinshop.core import rows


def unrevoked_token(key_hash: str) -> ApiToken | None:
    """The unrevoked token of this hash, of an active user, with its user: read
    on every API request, so its query is written out (compiling the queryset
    cost five times running it)."""
    with connection.cursor() as cursor:
        cursor.execute(_unrevoked_token_sql(), [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    record, record.user = rows.split(row, ApiToken, User)
    return record


@cache
def _unrevoked_token_sql() -> str:
    return (
        f"SELECT {rows.columns(ApiToken, 't')}, {rows.columns(User, 'u')}"
        f" FROM {ApiToken._meta.db_table} t JOIN {User._meta.db_table} u ON u.id = t.user_id"
        " WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active"
    )
