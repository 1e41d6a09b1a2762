"""Shared fixtures. Every test that touches the database ends with a check that
the ledger is healthy: every entry balances and every balance is its postings."""

from __future__ import annotations

import contextlib
import os

import pytest
from django.core.cache import cache
from django.db import connection

from kinshop import testing


def pytest_collection_modifyitems(config, items):
    vendor = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (run by `make test` when reachable)")
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(skip_pg)


def _test_settings(tmp_path_factory) -> dict:
    return {
        "MEDIA_ROOT": tmp_path_factory.getbasetemp() / "media",  # per xdist worker
        # Argon2 costs ~50 ms per password on a small machine and every builder
        # registers users; the one test of the production hasher sets it back.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "KINSHOP_PAYMENT_SANDBOX": True,
        "KINSHOP_PLATFORM_FEE_BP": 0,
    }


@pytest.fixture(autouse=True)
def _media_and_settings(settings, tmp_path_factory):
    for name, value in _test_settings(tmp_path_factory).items():
        setattr(settings, name, value)
    # Rendered pages are cached under keys of row ids and versions; a rolled-back
    # test leaves ids to be used again, so every test starts with an empty cache.
    cache.clear()


@pytest.fixture(autouse=True)
def _ledger_stays_healthy(request):
    yield
    if "db" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        return
    try:
        from kinshop.ledger import queries as ledger_queries
    except ImportError:
        return
    if connection.connection is None and not connection.in_atomic_block:
        connection.ensure_connection()
    health = ledger_queries.health()
    assert health["balanced"], f"ledger unhealthy after test: {health['mismatches'][:5]}"


def _commit_when_entry_points_end(monkeypatch) -> None:
    from django.db import transaction

    original_exit = transaction.Atomic.__exit__

    def exit_and_commit(self, exc_type, exc_value, traceback):
        result = original_exit(self, exc_type, exc_value, traceback)
        if exc_type is None and testing.only_test_transactions_open(self.using or "default"):
            testing.commit(self.using or "default")
        return result

    monkeypatch.setattr(transaction.Atomic, "__exit__", exit_and_commit)


@pytest.fixture(autouse=True)
def _entry_points_commit(request, monkeypatch):
    """A test runs inside a transaction that is rolled back, so `on_commit` never
    fires. When an entry point's transaction ends cleanly (only the test case's
    own blocks are left open), run its `on_commit` callbacks, as its commit would
    have: the outbox tries a recorded provider refund right then, as in
    production. Tests that call services directly use `testing.commit()`."""
    if "db" in request.fixturenames:
        _commit_when_entry_points_end(monkeypatch)
    yield


@pytest.fixture(scope="module")
def world_once(django_db_setup, django_db_blocker, tmp_path_factory):
    """`tests.support.world.build_world()` built once for a module's tests (per
    pytest-xdist worker), inside a transaction that stays open. Each test's own
    transaction (the `db` fixture) nests in it as a savepoint rolled back after
    the test, so every test sees exactly the world as built and nothing another
    test did; the whole is rolled back when the module's tests are done."""
    from django.db import transaction
    from django.test import override_settings

    from tests.support.world import build_world

    with contextlib.ExitStack() as stack:
        stack.enter_context(django_db_blocker.unblock())
        stack.enter_context(override_settings(**_test_settings(tmp_path_factory)))
        monkeypatch = stack.enter_context(pytest.MonkeyPatch.context())
        _commit_when_entry_points_end(monkeypatch)
        outer = transaction.atomic()
        outer._from_testcase = True  # type: ignore[attr-defined]  # like a TestCase's own block
        outer.__enter__()
        try:
            cache.clear()
            world = build_world()
            monkeypatch.undo()  # each test patches for itself
            yield world
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def operator(db):
    return testing.make_operator("platform_operator")


@pytest.fixture
def supplier_pair(db):
    """A verified supplier and its staff member."""
    return testing.make_supplier(name="Lin'an Hickory Co.")


@pytest.fixture
def product(supplier_pair):
    _, staff = supplier_pair
    return testing.make_product(staff=staff, title="Hickory nuts 500 g")


@pytest.fixture
def shop(product):
    return testing.make_shop(handle="nutshop", products=[product], price=9900)


@pytest.fixture
def api():
    return testing.ApiClient
