"""How Kinshop talks to PostgreSQL: the server binds the parameters, and a
statement run again on a connection is prepared there (settings.py, README
"Connections")."""

from __future__ import annotations

import pytest
from django.db import connection

from kinshop.accounts import queries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_a_statement_run_twice_on_a_connection_is_prepared_on_the_server():
    assert connection.settings_dict["OPTIONS"]["server_side_binding"] is True
    # when a read every API request makes runs again and again on one connection,
    # with different parameters
    for key in ("nobody-1", "nobody-2", "nobody-3"):
        assert queries.unrevoked_token(key) is None
    # then PostgreSQL holds it prepared, with its parameters left to bind
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert any("key_hash = $1" in statement for statement in prepared), prepared
