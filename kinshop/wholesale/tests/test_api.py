"""The wholesale operations of the contract, through HTTP, from tiers to an
offline sale and the compliance report."""

from __future__ import annotations

import pytest

from kinshop import testing
from kinshop.testing import ApiClient

pytestmark = pytest.mark.django_db


def _flow(client: ApiClient, staff: ApiClient, order_id: int) -> None:
    """Pay through the sandbox and ship, as the shopkeeper and the supplier would."""
    payment = client.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}).json()
    assert client.post(f"/payments/{payment['id']}/sandbox-confirm").status_code == 200
    shipped = staff.post(
        f"/orders/{order_id}/shipments", {"carrier": "SF", "tracking_no": f"SF{order_id}"}
    )
    assert shipped.status_code == 201, shipped.content


@pytest.fixture
def clients(shop, supplier_pair, operator):
    _, staff = supplier_pair
    return ApiClient(shop.owner), ApiClient(staff), ApiClient(operator)


def test_set_wholesale_tiers(sku, clients, shop):
    keeper, staff, _ = clients
    tiers = [{"min_quantity": 50, "unit_price": 5000}, {"min_quantity": 10, "unit_price": 5500}]

    response = staff.put(f"/skus/{sku.id}/wholesale-tiers", tiers)

    assert response.status_code == 200, response.content
    assert response.json() == {
        "sku_id": sku.id,
        "supply_price": 6000,
        "currency": "CNY",
        "tiers": [
            {"min_quantity": 10, "unit_price": 5500},
            {"min_quantity": 50, "unit_price": 5000},
        ],
    }
    assert ApiClient().get(f"/skus/{sku.id}/wholesale-tiers").json()["tiers"][0] == {
        "min_quantity": 10,
        "unit_price": 5500,
    }
    above = staff.put(f"/skus/{sku.id}/wholesale-tiers", [{"min_quantity": 5, "unit_price": 6001}])
    assert (above.status_code, above.json()["code"]) == (422, "tier_above_supply_price")
    rising = staff.put(
        f"/skus/{sku.id}/wholesale-tiers",
        [{"min_quantity": 5, "unit_price": 5000}, {"min_quantity": 9, "unit_price": 5100}],
    )
    assert (rising.status_code, rising.json()["code"]) == (422, "tier_prices_not_falling")
    assert keeper.put(f"/skus/{sku.id}/wholesale-tiers", tiers).status_code == 403
    assert staff.put("/skus/999999/wholesale-tiers", tiers).status_code == 404
    assert ApiClient().put(f"/skus/{sku.id}/wholesale-tiers", tiers).status_code == 401


def test_buy_past_the_cap_sell_offline_more_than_held_and_see_the_reach(
    tiers, clients, shop, settings
):
    settings.KINSHOP_HOLDING_FLOOR = 50
    keeper, staff, operator = clients
    path = f"/shops/{shop.handle}/wholesale-orders"

    # a wholesale order: the tier price, no beneficiary, only {lines} needed
    response = keeper.post(
        path, {"lines": [{"sku_id": tiers.id, "quantity": 40}]}, headers={"Idempotency-Key": "w1"}
    )
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["is_wholesale"] is True
    assert order["total"] == 40 * 5500
    assert order["status"] == "pending_payment"
    assert [
        (line["unit_price"], line["quantity"], line["commission_beneficiary_id"])
        for line in order["lines"]
    ] == [(5500, 40, None)]
    replay = keeper.post(
        path, {"lines": [{"sku_id": tiers.id, "quantity": 40}]}, headers={"Idempotency-Key": "w1"}
    )
    assert replay.json()["id"] == order["id"]

    # 40 on order + 11 > 50: refused with the numbers
    over = keeper.post(path, {"lines": [{"sku_id": tiers.id, "quantity": 11}]})
    assert over.status_code == 409
    assert over.json()["code"] == "holding_cap"
    assert "51" in over.json()["message"] and "50" in over.json()["message"]

    _flow(keeper, staff, order["id"])
    sale = keeper.post(
        f"/shops/{shop.handle}/offline-sales",
        {"sku_id": tiers.id, "quantity": 30, "unit_price": 9900},
    )
    assert sale.status_code == 201, sale.content
    assert sale.json()["held"] == 10
    too_many = keeper.post(
        f"/shops/{shop.handle}/offline-sales",
        {"sku_id": tiers.id, "quantity": 11, "unit_price": 9900},
    )
    assert (too_many.status_code, too_many.json()["code"]) == (409, "exceeds_holding")

    holdings = keeper.get(f"/shops/{shop.handle}/holdings")
    assert holdings.status_code == 200
    (row,) = holdings.json()
    assert {key: row[key] for key in ("sku_id", "bought", "sold_offline", "held")} == {
        "sku_id": tiers.id,
        "bought": 40,
        "sold_offline": 30,
        "held": 10,
    }
    assert row["cap"] == 60  # max(50, 2 × 30)
    assert operator.get(f"/shops/{shop.handle}/holdings").json() == holdings.json()

    report = operator.get("/compliance/report").json()
    assert report["units_left_suppliers"] == 40
    assert report["units_reached_consumers"] == 30
    assert report["retail_reach_rate"] == 0.75
    assert report["commission_levels"] == 1


def test_who_may_use_a_shops_wholesale(tiers, clients, shop):
    keeper, staff, operator = clients
    other_keeper = ApiClient(testing.make_shop().owner)
    order_body = {"lines": [{"sku_id": tiers.id, "quantity": 10}]}
    sale_body = {"sku_id": tiers.id, "quantity": 1, "unit_price": 100}
    for client in (staff, operator, other_keeper):
        assert client.post(f"/shops/{shop.handle}/wholesale-orders", order_body).status_code == 403
        assert client.post(f"/shops/{shop.handle}/offline-sales", sale_body).status_code == 403
    for client in (staff, other_keeper):
        assert client.get(f"/shops/{shop.handle}/holdings").status_code == 403
    assert ApiClient().get(f"/shops/{shop.handle}/holdings").status_code == 401
    assert keeper.get("/shops/no-such-shop/holdings").status_code == 404
    assert keeper.post("/shops/no-such-shop/wholesale-orders", order_body).status_code == 404


def test_bad_wholesale_input_is_a_clear_4xx(tiers, clients, shop):
    keeper, _, _ = clients
    path = f"/shops/{shop.handle}/wholesale-orders"
    for body, status, code in [
        ({"lines": []}, 422, "invalid_input"),
        ({"lines": [{"sku_id": tiers.id, "quantity": 0}]}, 422, "invalid_input"),
        ({"lines": [{"sku_id": 10**9, "quantity": 10}]}, 422, "unknown_sku"),
        ({"lines": [{"sku_id": tiers.id, "quantity": 9}]}, 422, "below_wholesale_minimum"),
    ]:
        response = keeper.post(path, body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    sale = keeper.post(
        f"/shops/{shop.handle}/offline-sales", {"sku_id": 10**9, "quantity": 1, "unit_price": 1}
    )
    assert (sale.status_code, sale.json()["code"]) == (409, "exceeds_holding")


def test_holdings_answer_in_constant_queries(tiers, clients, shop, supplier_pair, settings):
    settings.KINSHOP_HOLDING_FLOOR = 500
    keeper, staff, _ = clients
    _, staff_user = supplier_pair

    def count_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            assert keeper.get(f"/shops/{shop.handle}/holdings").status_code == 200
        return len(captured.captured_queries)

    order = keeper.post(
        f"/shops/{shop.handle}/wholesale-orders",
        {"lines": [{"sku_id": tiers.id, "quantity": 10}]},
    ).json()
    _flow(keeper, staff, order["id"])
    one = count_queries()
    for _ in range(3):
        product = testing.make_product(staff=staff_user)
        sku = product.skus.get()
        staff.put(f"/skus/{sku.id}/wholesale-tiers", [{"min_quantity": 1, "unit_price": 5000}])
        order = keeper.post(
            f"/shops/{shop.handle}/wholesale-orders", {"lines": [{"sku_id": sku.id, "quantity": 2}]}
        ).json()
        _flow(keeper, staff, order["id"])
    with testing.assert_query_count(one):
        assert len(keeper.get(f"/shops/{shop.handle}/holdings").json()) == 4


def test_a_return_through_the_api(tiers, clients, shop):
    keeper, staff, _ = clients
    order = keeper.post(
        f"/shops/{shop.handle}/wholesale-orders",
        {"lines": [{"sku_id": tiers.id, "quantity": 10}]},
    ).json()
    _flow(keeper, staff, order["id"])

    response = keeper.post(
        f"/shops/{shop.handle}/wholesale-returns",
        {"order_id": order["id"], "sku_id": tiers.id, "quantity": 4, "reason": "unsold"},
    )

    assert response.status_code == 201, response.content
    assert response.json()["amount"] == 4 * 5500
    refund_id = response.json()["id"]
    assert staff.post(f"/refunds/{refund_id}/approve").status_code == 200
    (row,) = keeper.get(f"/shops/{shop.handle}/holdings").json()
    assert (row["bought"], row["returned"], row["held"]) == (10, 4, 6)
