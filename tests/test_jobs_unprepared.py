"""Jobs run their statements unprepared on PostgreSQL; requests prepare them."""

from __future__ import annotations

import pytest
from django.db import connection

from kinshop.accounts import queries
from kinshop.ops import jobs

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared_token_reads() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%key_hash = $1%"],
        )
        return cursor.fetchone()[0]


def test_a_job_prepares_nothing_however_often_it_runs_a_statement():
    # when a statement runs again and again inside a job's run
    with jobs.unprepared():
        for key in ("job-1", "job-2", "job-3", "job-4"):
            queries.unrevoked_token(key)
    # then nothing was prepared; after it, the same statement is prepared again
    assert _prepared_token_reads() == 0
    for key in ("request-1", "request-2", "request-3"):
        queries.unrevoked_token(key)
    assert _prepared_token_reads() == 1
