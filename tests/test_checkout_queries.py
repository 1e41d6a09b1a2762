"""The whole checkout through the API (order, payment, sandbox confirmation),
each with an Idempotency-Key as the apps send it: its exact statements, the
same for one line as for many. `make bench` counts the same requests outside a
test, where each request's transaction is BEGIN/COMMIT instead of the
SAVEPOINT/RELEASE pair counted here: the same 13 + 7 + 16 = 36 statements."""

from __future__ import annotations

import uuid

import pytest

from kinshop import testing
from kinshop.orders.tests.conftest import ADDRESS
from kinshop.sharing import services as sharing

pytestmark = pytest.mark.django_db

# the token; savepoint; the SKUs with this shop's prices, the shop itself (found
# by its handle) and the id of the buyer's last click on it (none here), in one
# query that locks the SKU rows; the buyer's identifiers (phone and device); the
# stock update; the unpaid units of these SKUs (counted after the lock); the
# order, the fulfilments, the lines, two history rows; the idempotency record;
# release.
CREATE_ORDER = 13
# the token; savepoint; the order (locked); the payment (with its pay URL: the
# sandbox answers without a call out) and its history row; the idempotency
# record; release.
PAY_ORDER = 7
# the token; savepoint; the order (locked, through its payment), its payments
# (locked); the webhook event; the order paid and its history row; the lines
# with their fulfilments (read once: the ledger's split and the screening take
# them from memory); the fulfilments' update and history rows; the journal
# entry; its postings, with their ledger accounts found in the same INSERT ...
# SELECT; the payment captured and its history row; then the fraud screening of
# the order just paid (kinshop.checkout): its screening row claimed, returning
# the buyer's recent full refunds counted (their list is read only when there
# are enough); release. No sharer is paid on these lines, so the linked
# identities are not checked again (see the test through a share link).
SANDBOX_CONFIRM = 16

# Through a share link, the sharer's commission is at stake: CREATE_ORDER and
# the link of the share code, the click it records, and the identifiers of the
# buyer, the sharer and the shopkeeper (may this sharer earn on this buyer?).
SHARED_CREATE_ORDER = CREATE_ORDER + 3
# SANDBOX_CONFIRM and the identifiers of the buyer, the sharer and the
# shopkeeper (linked identities, checked again now that the payer is known); the
# screening's linked-identity rule (the sharer's own addresses) and its order
# ring rule (orders between the buyer and the sharer).
SHARED_SANDBOX_CONFIRM = SANDBOX_CONFIRM + 3


def _checkout(
    client, shop, skus, *, counts: tuple[int, int, int] | None = None, share_code: str = ""
):
    def post(path, body, count):
        key = {"Idempotency-Key": uuid.uuid4().hex}
        if count is None:
            return client.post(path, body, headers=key)
        with testing.assert_query_count(count):
            return client.post(path, body, headers=key)

    order_count, pay_count, confirm_count = counts or (None, None, None)
    lines = [{"sku_id": sku.id, "quantity": 1} for sku in skus]
    body = {"shop": shop.handle, "lines": lines, "address": ADDRESS, "share_code": share_code}
    order = post("/orders", body, order_count)
    assert order.status_code == 201, order.json()
    payment = post(f"/orders/{order.json()['id']}/payments", {"provider": "sandbox"}, pay_count)
    assert payment.status_code == 201, payment.json()
    assert payment.json()["pay_url"]
    confirmed = post(f"/payments/{payment.json()['id']}/sandbox-confirm", {}, confirm_count)
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "captured"
    return order.json()


@pytest.mark.parametrize("line_count", [1, 5])
def test_a_whole_checkout_runs_the_same_statements_for_one_line_or_five(
    api, supplier_pair, line_count
):
    # given a shop of five products whose ledger accounts exist (a first sale)
    _, staff = supplier_pair
    products = [testing.make_product(staff=staff) for _ in range(5)]
    shop = testing.make_shop(products=products)
    skus = [product.skus.get() for product in products]
    client = api(testing.make_user("buyer"))
    _checkout(client, shop, skus)
    # when the buyer checks out one line, or five: then exactly these statements ran
    order = _checkout(
        client, shop, skus[:line_count], counts=(CREATE_ORDER, PAY_ORDER, SANDBOX_CONFIRM)
    )
    assert len(order["lines"]) == line_count


@pytest.mark.parametrize("line_count", [1, 5])
def test_a_whole_checkout_through_a_share_link_runs_the_same_statements_for_any_lines(
    api, supplier_pair, line_count
):
    # given a shop of five products, and a sharer's link to it
    _, staff = supplier_pair
    products = [testing.make_product(staff=staff) for _ in range(5)]
    shop = testing.make_shop(products=products)
    skus = [product.skus.get() for product in products]
    sharer = testing.make_user("sharer")
    code = sharing.create_share_link(sharer=sharer, shop=shop, product=products[0]).code
    client = api(testing.make_user("buyer"))
    _checkout(client, shop, skus, share_code=code)  # the sharer's accounts exist
    # when the buyer checks out through the link: then exactly these statements ran
    order = _checkout(
        client,
        shop,
        skus[:line_count],
        counts=(SHARED_CREATE_ORDER, PAY_ORDER, SHARED_SANDBOX_CONFIRM),
        share_code=code,
    )
    assert {line["commission_beneficiary_id"] for line in order["lines"]} == {sharer.id}
