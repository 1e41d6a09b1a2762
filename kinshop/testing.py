"""Test data built through the real services, so tests exercise the same rules
as production. Imported by the test suites and the benchmarks; never by the app."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kinshop.accounts import services as accounts
from kinshop.accounts.models import User
from kinshop.catalog import services as catalog
from kinshop.shops import services as shops

PASSWORD = "correct-horse-battery-9"
_numbers = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_numbers)}"


@contextmanager
def assert_query_count(count: int, *, using: str = "default") -> Iterator[CaptureQueriesContext]:
    """Assert that the block runs exactly `count` SQL statements (Zulip's
    `assert_database_query_count`): fewer is as suspicious as more, since both
    mean the code path changed. On failure the message lists every statement,
    numbered, so the extra (or missing) one is easy to spot."""
    with CaptureQueriesContext(connections[using]) as captured:
        yield captured
    actual = len(captured.captured_queries)
    if actual != count:
        statements = "\n".join(
            f"{number}. {query['sql']}"
            for number, query in enumerate(captured.captured_queries, start=1)
        )
        raise AssertionError(
            f"{actual} queries run, {count} expected "
            f"({connections[using].vendor}):\n{statements or '(none)'}"
        )


def new_id_number() -> str:
    """A valid resident ID number (GB 11643 check digit) no other test user has:
    one ID number verifies one account."""
    import datetime as dt

    from kinshop.accounts.rules import id_check_character

    number = next(_numbers)
    born = dt.date(1990, 1, 1) + dt.timedelta(days=number // 1000)
    body = f"110105{born:%Y%m%d}{number % 1000:03d}"
    return body + id_check_character(body)


def make_user(username: str | None = None, *, phone: str = "", email: str = "", **extra) -> User:
    user = accounts.register(
        username=username or unique("user"), password=PASSWORD, phone=phone, email=email
    )
    if extra:
        for key, value in extra.items():
            setattr(user, key, value)
        user.save()
    return user


def make_operator(username: str | None = None) -> User:
    return make_user(username or unique("operator"), is_staff=True)


def make_supplier(*, staff: User | None = None, verified: bool = True, name: str | None = None):
    staff = staff or make_user(unique("supplier_staff"))
    supplier = catalog.apply_supplier(
        user=staff, name=name or unique("Supplier "), license_no=unique("LIC")
    )
    if verified:
        supplier = catalog.verify_supplier(supplier=supplier, actor=make_operator())
    return supplier, staff


def make_product(
    *,
    staff: User,
    title: str | None = None,
    commission_rate_bp: int = 1000,
    skus: list[dict[str, Any]] | None = None,
):
    skus = skus or [
        {
            "code": unique("SKU-"),
            "name": "500 g",
            "supply_price": 6000,
            "retail_min": 8000,
            "retail_max": 12000,
            "suggested_retail_price": 9900,
            "stock": 100,
        }
    ]
    return catalog.create_product(
        user=staff,
        title=title or unique("Product "),
        commission_rate_bp=commission_rate_bp,
        skus=[catalog.NewSku(**sku) for sku in skus],
    )


def make_shop(*, owner: User | None = None, handle: str | None = None, products=(), price=None):
    owner = owner or make_user(unique("keeper"))
    shop = shops.open_shop(user=owner, handle=handle or unique("shop-"), name=f"{owner}'s shop")
    for product in products:
        prices = {}
        if price is not None:
            prices = {sku.id: price for sku in product.skus.all()}
        shops.add_selection(user=owner, shop=shop, product_id=product.id, prices=prices)
    return shop


class ApiClient:
    """A JSON client for /api/v1 that signs in with a bearer token."""

    def __init__(self, user: User | None = None) -> None:
        self.client = Client()
        self.headers: dict[str, str] = {}
        self.user = user
        if user is not None:
            _, token = accounts.create_token(username=user.username, password=PASSWORD)
            self.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, data=None, headers=None, **params):
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        all_headers = {**self.headers, **(headers or {})}
        caller = getattr(self.client, method)
        if method == "get":
            return caller(url, data=data or params or None, headers=all_headers)
        return caller(
            url,
            data=data if data is not None else {},
            content_type="application/json",
            headers=all_headers,
        )

    def get(self, path: str, **params):
        return self._call("get", path, **params)

    def post(self, path: str, data=None, headers=None):
        return self._call("post", path, data, headers)

    def put(self, path: str, data=None):
        return self._call("put", path, data)

    def delete(self, path: str):
        return self._call("delete", path)


def commit(using: str = "default") -> None:
    """Run what the last entry point left for after its commit (`on_commit`
    callbacks: the outbox's first try of a provider refund, for one), as the
    commit would have. A test runs inside one transaction that is rolled back at
    its end, so nothing else would. Call it after a service called directly, as
    an entry point would have committed there."""
    from django.db import connections

    connection = connections[using]
    pending, connection.run_on_commit = connection.run_on_commit, []
    for entry in pending:  # (savepoint ids, callback, robust)
        entry[1]()


def only_test_transactions_open(using: str = "default") -> bool:
    """True when every open atomic block is the test case's own: an entry point's
    transaction has just ended, so in production it would have committed."""
    from django.db import connections

    from kinshop.core.tasks import in_transaction

    return bool(connections[using].atomic_blocks) and not in_transaction(using)
