"""Who may do what: every operation of the API contract (/work/shared/API.md)
called by every role, each in the same world as built (what one case does is
rolled back before the next), against the expected answer.

Read the table row by row next to API.md. `allow` is any 2xx; a number is the
status of the refusal, whose body must be `{"code", "message"}`. The rules the
table follows, from the contract's conventions:

- 401: not signed in, on anything but the public operations.
- 404: "not found or not yours": an order, payment or refund the caller cannot
  see is answered as if it did not exist.
- 403: the caller can see the object (or the operation is for one role only,
  such as the operator's) but may not perform the action.
- 409: a conflict with the caller's own state, not a permission: a supplier's
  staff cannot apply for a second supplier, a shopkeeper cannot open a second shop.
- request_withdrawal "needs verified identity": only other_buyer (the sharer,
  whose identity is verified and whose commission is settled) may; the others
  have not verified theirs and are refused with 403 identity_not_verified.

Columns: anon = not signed in; buyer = bought the orders below; buyer2 = another
buyer, who shared the shop, earned the settled commission and asked for the
withdrawal; keeper = keeps the shop the orders came from; keeper2 = keeps
another shop; staff = the supplier's staff; staff2 = another verified supplier's
staff; op = operator.

Objects: verify_supplier on a pending supplier; adjust_stock / add_selection /
create_share_link / record_click on the supplier's product, the keeper's shop
and buyer2's link; get_order, ship_order, request_refund on a paid order;
confirm_receipt on a shipped one; pay_order, cancel_order and
sandbox_confirm_payment on an order awaiting payment and its sandbox payment;
approve_refund on the paid order's open refund; approve_withdrawal on buyer2's;
set_wholesale_tiers on the supplier's SKU; create_wholesale_order,
record_offline_sale and get_holdings on the keeper's shop, which holds units of
that SKU bought wholesale.
"""

from __future__ import annotations

import functools
import re

import pytest

from kinshop import testing
from tests.support.world import ADDRESS, World, new_sku

ROLE_COLUMNS = {
    "anon": "anonymous",
    "buyer": "buyer",
    "buyer2": "other_buyer",
    "keeper": "shopkeeper",
    "keeper2": "other_shopkeeper",
    "staff": "supplier_staff",
    "staff2": "other_supplier_staff",
    "op": "operator",
}

TABLE = """
operation                anon   buyer  buyer2 keeper keeper2 staff  staff2 op
register                 allow  allow  allow  allow  allow   allow  allow  allow
create_token             allow  allow  allow  allow  allow   allow  allow  allow
me                       401    allow  allow  allow  allow   allow  allow  allow
verify_identity          401    allow  allow  allow  allow   allow  allow  allow
revoke_token             401    allow  allow  allow  allow   allow  allow  allow
apply_supplier           401    allow  allow  allow  allow   409    409    allow
verify_supplier          401    403    403    403    403     403    403    allow
create_product           401    403    403    403    403     allow  allow  403
list_products            allow  allow  allow  allow  allow   allow  allow  allow
get_product              allow  allow  allow  allow  allow   allow  allow  allow
adjust_stock             401    403    403    403    403     allow  403    403
open_shop                401    allow  allow  409    409     allow  allow  allow
add_selection            401    403    403    allow  403     403    403    403
get_shop                 allow  allow  allow  allow  allow   allow  allow  allow
create_share_link        401    allow  allow  allow  allow   allow  allow  allow
record_click             401    allow  allow  allow  allow   allow  allow  allow
list_my_shares           401    allow  allow  allow  allow   allow  allow  allow
create_order             401    allow  allow  allow  allow   allow  allow  allow
get_order                401    allow  404    allow  404     allow  404    allow
list_orders              401    allow  allow  allow  allow   allow  allow  allow
pay_order                401    allow  404    403    404     403    404    403
sandbox_confirm_payment  401    allow  404    403    404     403    404    allow
ship_order               401    403    404    403    404     allow  404    403
confirm_receipt          401    allow  404    403    404     403    404    403
cancel_order             401    allow  404    403    404     403    404    403
request_refund           401    allow  404    403    404     403    404    allow
approve_refund           401    403    404    403    404     allow  404    allow
get_wallet               401    allow  allow  allow  allow   allow  allow  allow
list_wallet_entries      401    allow  allow  allow  allow   allow  allow  allow
request_withdrawal       401    403    allow  403    403     403    403    403
approve_withdrawal       401    403    403    403    403     403    403    allow
ledger_health            401    403    403    403    403     403    403    allow
compliance_report        401    403    403    403    403     403    403    allow
set_wholesale_tiers      401    403    403    403    403     allow  403    403
create_wholesale_order   401    403    403    allow  403     403    403    403
record_offline_sale      401    403    403    allow  403     403    403    403
get_holdings             401    403    403    allow  403     403    403    allow
"""


def _parse(table: str) -> dict[str, dict[str, str]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    roles = [ROLE_COLUMNS[column] for column in header[1:]]
    return {row[0]: dict(zip(roles, row[1:], strict=True)) for row in rows}


MATRIX = _parse(TABLE)

# Expected answers that are known bugs, with what was seen instead.
KNOWN_BUGS: dict[tuple[str, str], str] = {}

# The operations of API.md, in its order: the table must hold exactly these.
CONTRACT_OPERATIONS = [
    "register",
    "create_token",
    "me",
    "verify_identity",
    "revoke_token",
    "apply_supplier",
    "verify_supplier",
    "create_product",
    "list_products",
    "get_product",
    "adjust_stock",
    "open_shop",
    "add_selection",
    "get_shop",
    "create_share_link",
    "record_click",
    "list_my_shares",
    "create_order",
    "get_order",
    "list_orders",
    "pay_order",
    "sandbox_confirm_payment",
    "ship_order",
    "confirm_receipt",
    "cancel_order",
    "request_refund",
    "approve_refund",
    "get_wallet",
    "list_wallet_entries",
    "request_withdrawal",
    "approve_withdrawal",
    "ledger_health",
    "compliance_report",
    "set_wholesale_tiers",
    "create_wholesale_order",
    "record_offline_sale",
    "get_holdings",
]


def _request(operation: str, world: World) -> tuple[str, str, dict | None]:
    """The call each role makes: (method, path under /api/v1, JSON body)."""
    w = world
    unique = testing.unique
    requests = {
        "register": lambda: (
            "post",
            "/accounts",
            {"username": unique("newcomer"), "password": testing.PASSWORD},
        ),
        "create_token": lambda: (
            "post",
            "/auth/tokens",
            {"username": w.users["buyer"].username, "password": testing.PASSWORD},
        ),
        "revoke_token": lambda: ("delete", "/auth/tokens/current", None),
        "me": lambda: ("get", "/me", None),
        "verify_identity": lambda: (
            "post",
            "/me/identity",
            {"real_name": "李雷", "id_number": testing.new_id_number()},
        ),
        "apply_supplier": lambda: (
            "post",
            "/suppliers",
            {"name": unique("Tea Farm "), "license_no": unique("LIC")},
        ),
        "verify_supplier": lambda: ("post", f"/suppliers/{w.pending_supplier.id}/verify", {}),
        "create_product": lambda: (
            "post",
            "/products",
            {"title": "Longjing tea", "commission_rate_bp": 1000, "skus": [new_sku()]},
        ),
        "list_products": lambda: ("get", "/products", None),
        "get_product": lambda: ("get", f"/products/{w.product.id}", None),
        "adjust_stock": lambda: ("post", f"/skus/{w.sku.id}/stock", {"delta": 5}),
        "open_shop": lambda: (
            "post",
            "/shops",
            {"handle": unique("corner-"), "name": "Corner shop"},
        ),
        "add_selection": lambda: (
            "post",
            f"/shops/{w.shop.handle}/selections",
            {"product_id": w.product.id, "prices": {str(w.sku.id): 9500}},
        ),
        "get_shop": lambda: ("get", f"/shops/{w.shop.handle}", None),
        "create_share_link": lambda: (
            "post",
            "/share-links",
            {"shop": w.shop.handle, "product_id": w.product.id},
        ),
        "record_click": lambda: (
            "post",
            f"/share-links/{w.share_link.code}/clicks",
            {"channel": "qr"},
        ),
        "list_my_shares": lambda: ("get", "/me/shares", None),
        "create_order": lambda: (
            "post",
            "/orders",
            {
                "shop": w.shop.handle,
                "lines": [{"sku_id": w.sku.id, "quantity": 1}],
                "address": ADDRESS,
            },
        ),
        "get_order": lambda: ("get", f"/orders/{w.paid_order.id}", None),
        "list_orders": lambda: ("get", "/orders", None),
        "pay_order": lambda: (
            "post",
            f"/orders/{w.pending_order.id}/payments",
            {"provider": "sandbox"},
        ),
        "sandbox_confirm_payment": lambda: (
            "post",
            f"/payments/{w.pending_payment.id}/sandbox-confirm",
            {},
        ),
        "ship_order": lambda: (
            "post",
            f"/orders/{w.paid_order.id}/shipments",
            {"carrier": "SF Express", "tracking_no": "SF1234567890"},
        ),
        "confirm_receipt": lambda: ("post", f"/orders/{w.shipped_order.id}/confirm", {}),
        "cancel_order": lambda: (
            "post",
            f"/orders/{w.pending_order.id}/cancel",
            {"reason": "changed my mind"},
        ),
        "request_refund": lambda: (
            "post",
            f"/orders/{w.paid_order.id}/refunds",
            {"amount": 100, "reason": "one nut was rotten"},
        ),
        "approve_refund": lambda: ("post", f"/refunds/{w.refund.id}/approve", {}),
        "get_wallet": lambda: ("get", "/wallet", None),
        "list_wallet_entries": lambda: ("get", "/wallet/entries", None),
        "request_withdrawal": lambda: ("post", "/withdrawals", {"amount": 1000}),
        "approve_withdrawal": lambda: ("post", f"/withdrawals/{w.withdrawal.id}/approve", {}),
        "ledger_health": lambda: ("get", "/ledger/health", None),
        "compliance_report": lambda: ("get", "/compliance/report", None),
        "set_wholesale_tiers": lambda: (
            "put",
            f"/skus/{w.sku.id}/wholesale-tiers",
            [{"min_quantity": 1, "unit_price": 5800}, {"min_quantity": 20, "unit_price": 5200}],
        ),
        "create_wholesale_order": lambda: (
            "post",
            f"/shops/{w.shop.handle}/wholesale-orders",
            {"lines": [{"sku_id": w.sku.id, "quantity": 2}]},
        ),
        "record_offline_sale": lambda: (
            "post",
            f"/shops/{w.shop.handle}/offline-sales",
            {"sku_id": w.sku.id, "quantity": 1, "unit_price": 9900},
        ),
        "get_holdings": lambda: ("get", f"/shops/{w.shop.handle}/holdings", None),
    }
    return requests[operation]()


@functools.cache
def _operation_routes() -> list[tuple[str, re.Pattern[str], str]]:
    """(method, path regex, operationId) for every operation in openapi.json."""
    from kinshop.api import api

    routes = []
    for template, operations in api.get_openapi_schema()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
        for method, operation in operations.items():
            routes.append((method, pattern, operation["operationId"]))
    return routes


@functools.cache
def _success_status(operation_id: str) -> int:
    """The 2xx the contract declares for an operation; 201 when it declares 201
    and 200 (an idempotent replay answers 200, the first call 201)."""
    from kinshop.api import api

    for operations in api.get_openapi_schema()["paths"].values():
        for operation in operations.values():
            if operation["operationId"] == operation_id:
                codes = sorted(int(c) for c in operation["responses"] if str(c).startswith("2"))
                return 201 if 201 in codes else codes[0]
    raise AssertionError(f"{operation_id} is not in openapi.json")


def _operation_of(method: str, path: str) -> list[str]:
    return [
        operation_id
        for route_method, pattern, operation_id in _operation_routes()
        if route_method == method and pattern.match(path)
    ]


def _cases():
    for operation, expected_by_role in MATRIX.items():
        for role, expected in expected_by_role.items():
            marks = []
            if (operation, role) in KNOWN_BUGS:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[operation, role]))
            yield pytest.param(operation, role, expected, id=f"{operation}-{role}", marks=marks)


def test_the_table_covers_every_operation_of_the_contract_for_every_role():
    assert list(MATRIX) == CONTRACT_OPERATIONS
    assert all(set(row) == set(ROLE_COLUMNS.values()) for row in MATRIX.values())
    assert all(
        value in {"allow", "401", "403", "404", "409"}
        for row in MATRIX.values()
        for value in row.values()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "role", "expected"), list(_cases()))
def test_permission(operation, role, expected, world_once):
    # given the world as built (what other cases did is rolled back), and the
    # role signed in with a bearer token (or not at all)
    world = world_once
    user = world.users[role]
    client = testing.ApiClient(user)
    method, path, body = _request(operation, world)
    assert _operation_of(method, f"/api/v1{path}") == [operation], "the call hits another operation"

    # when
    if method == "get":
        response = client.get(path)
    elif method == "delete":
        response = client.delete(path)
    else:
        response = getattr(client, method)(path, body)

    # then
    summary = f"{method.upper()} /api/v1{path} as {role} → {response.status_code} {response.content[:300]!r}"
    if expected == "allow":
        assert response.status_code == _success_status(operation), summary
        return
    assert response.status_code == int(expected), summary
    error = response.json()
    assert isinstance(error.get("code"), str), summary
    assert re.fullmatch(r"[a-z][a-z0-9_]*", error["code"]), summary
    assert isinstance(error.get("message"), str), summary
    assert error["message"].strip(), summary
    if expected == "401":
        assert error["code"] == "not_authenticated", summary
