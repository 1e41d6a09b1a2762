"""Property-based fuzzing of the whole JSON API from its own OpenAPI document:
whatever schemathesis sends, Kinshop answers without a server error, with a
status the document lists for that operation, and with a body that matches the
document. Valid requests once anonymous and once signed in as a user who keeps
a shop, works for a verified supplier, and has orders, payments and a refund to
find; invalid requests signed in; and, one by one, the three kinds of bad input
every operation must document.

In-process over WSGI: each request runs in the test's thread and shares its
database connection and transaction, so plain `django_db` works and every
example's writes are rolled back at the end of the test."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.db import connection as django_connection
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from kinshop import testing
from kinshop.accounts import services as accounts
from kinshop.shops import services as shops
from tests.support.world import build_world

APP = get_wsgi_application()
ON_POSTGRES = django_connection.vendor == "postgresql"
# Known 500s on PostgreSQL (see test_a_nul_byte_in_text_is_refused_not_a_server_error).
FUZZ_EXCLUDED_ON_POSTGRES: list[str] = []  # empty: the NUL-byte 500s are fixed


def _schema(mode: GenerationMode, phases: list[str]):
    """One loaded schema per generation mode: the configuration is per schema."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
    schema.config.generation.update(modes=[mode])
    schema.config.phases.update(phases=phases)
    return schema


# Valid requests (as the document describes them): every check applies.
VALID = _schema(GenerationMode.POSITIVE, ["examples", "fuzzing"])
# Requests the document says are invalid: no 5xx, and a documented status has a documented body.
INVALID = _schema(GenerationMode.NEGATIVE, ["coverage", "fuzzing"])
SCHEMA_DOCUMENT = VALID.raw_schema
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
INVALID_INPUT_CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],  # no shrinking: failures print their request
    database=None,
    derandomize=True,  # the same examples on every run, so a failure is reproducible
)


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django's handler closes "old" connections at the start and end of every
    request; inside a test's transaction that would break it. Django's own test
    client disconnects the same receivers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Argon2 costs a quarter of a second a user; the world has a dozen."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def signed_in_headers():
    """A bearer token for a shopkeeper who is also staff of a verified supplier
    whose product the shop sells, with orders to ship, a payment and a refund among
    the ids the fuzzer may guess (the world's ids are small, like its guesses)."""
    world = build_world()
    user = world.users["shopkeeper"]
    testing.make_supplier(staff=user)
    product = testing.make_product(staff=user)
    shops.add_selection(user=user, shop=world.shop, product_id=product.id, prices={})
    _, token = accounts.create_token(username=user.username, password=testing.PASSWORD)
    return {"Authorization": f"Bearer {token}"}


@VALID.exclude(operation_id=FUZZ_EXCLUDED_ON_POSTGRES).parametrize()
@FUZZ
def test_anonymous(case):
    case.call_and_validate(checks=CHECKS)


@VALID.exclude(operation_id=["payment_webhook", *FUZZ_EXCLUDED_ON_POSTGRES]).parametrize()
@FUZZ
def test_signed_in(case, signed_in_headers):
    # The webhook is signed by the provider, not a user: the anonymous run covers it.
    case.call_and_validate(headers=signed_in_headers, checks=CHECKS)


@INVALID.exclude(operation_id=["payment_webhook", *FUZZ_EXCLUDED_ON_POSTGRES]).parametrize()
@FUZZ
def test_signed_in_invalid_input(case, signed_in_headers):
    # Which 4xx an invalid request gets is checked, operation by operation, by
    # test_refusals_of_bad_input_are_documented below.
    case.call_and_validate(headers=signed_in_headers, checks=INVALID_INPUT_CHECKS)


# ---- the refusals of bad input are in the document ---------------------------
#
# The contract: "400/422 bad input". Three kinds of bad input every client can
# send, and the status the document must then list for the operation.

BAD_INPUT_STATUS = {"bad_path_id": 422, "bad_query": 422, "malformed_json": 400}
# Bugs found here once (undocumented 400/422 answers) are fixed; a new one goes
# in this table as a strict xfail with what was seen.
UNDOCUMENTED_BAD_INPUT: dict[tuple[str, str], str] = {}


def _bad_input_cases():
    document = SCHEMA_DOCUMENT
    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            parameters = operation.get("parameters", [])
            kinds = []
            if any(p["in"] == "path" and p["schema"].get("type") == "integer" for p in parameters):
                kinds.append("bad_path_id")
            if any(p["in"] == "query" and p["name"] == "limit" for p in parameters):
                kinds.append("bad_query")
            if "requestBody" in operation:
                kinds.append("malformed_json")
            for kind in kinds:
                key = (operation["operationId"], kind)
                marks = []
                if key in UNDOCUMENTED_BAD_INPUT:
                    marks.append(pytest.mark.xfail(strict=True, reason=UNDOCUMENTED_BAD_INPUT[key]))
                yield pytest.param(
                    method,
                    template,
                    operation,
                    kind,
                    id=f"{operation['operationId']}-{kind}",
                    marks=marks,
                )


def _concrete_path(template: str, operation: dict, kind: str) -> str:
    path = template
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path":
            continue
        is_integer = parameter["schema"].get("type") == "integer"
        value = ("abc" if kind == "bad_path_id" else "1") if is_integer else "sandbox"
        path = path.replace("{" + parameter["name"] + "}", value)
    return path


@pytest.mark.parametrize(("method", "template", "operation", "kind"), list(_bad_input_cases()))
def test_refusals_of_bad_input_are_documented(method, template, operation, kind, signed_in_headers):
    client = Client()
    path = _concrete_path(template, operation, kind)
    headers = signed_in_headers
    if kind == "bad_query":
        response = client.get(path, {"limit": "0"}, headers=headers)
    elif kind == "malformed_json":
        response = client.generic(
            method.upper(),
            path,
            b'{"unterminated',
            content_type="application/json",
            headers=headers,
        )
    elif method == "get":
        response = client.get(path, headers=headers)
    else:
        response = client.generic(
            method.upper(), path, b"{}", content_type="application/json", headers=headers
        )

    summary = (
        f"{method.upper()} {path} ({kind}) → {response.status_code} {response.content[:200]!r}"
    )
    assert response.status_code == BAD_INPUT_STATUS[kind], summary
    assert set(response.json()) >= {"code", "message"}, summary
    documented = set(operation["responses"])
    assert str(response.status_code) in documented, f"{summary}; documented: {sorted(documented)}"


# ---- text with a NUL byte is refused, not a 500 ------------------------------
#
# Found by the fuzzer on PostgreSQL, whose text type cannot hold U+0000: a NUL
# reached a query and the database raised DataError (a 500). Fixed by refusing
# NUL characters at the API's edge (kinshop.core.middleware).


@pytest.mark.parametrize(
    ("method", "path", "body", "where"),
    [
        pytest.param(
            "get",
            "/api/v1/products?q=nuts%00",
            None,
            "?q=",
            id="list_products-q",
        ),
        pytest.param(
            "post",
            "/api/v1/orders",
            {
                "shop": "\x00shop",
                "lines": [{"sku_id": 1, "quantity": 1}],
                "address": {
                    "name": "王芳",
                    "phone": "13800138000",
                    "region": "杭州",
                    "detail": "1 号",
                },
            },
            "the order's shop handle",
            id="create_order-shop",
        ),
    ],
)
def test_a_nul_byte_in_text_is_refused_not_a_server_error(
    method, path, body, where, signed_in_headers
):
    client = Client()
    if method == "get":
        response = client.get(path, headers=signed_in_headers)
    else:
        response = client.post(
            path, body, content_type="application/json", headers=signed_in_headers
        )
    # A search may simply find nothing; anything refused is refused as a 4xx.
    assert response.status_code < 500, (where, response.status_code, response.content[:200])
    if response.status_code >= 400:
        assert set(response.json()) >= {"code", "message"}
