"""The operator's side of trust in the admin: no review is made there, the
fraud queue shows its evidence and clears a flag in one step, and a suspension
by penalty points is lifted there."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from kinshop import testing
from kinshop.ledger import queries as ledger_queries
from kinshop.ops.jobs import run_due
from kinshop.trust.models import FraudFlag, Review, ReviewImage, ReviewReply
from kinshop.trust.tests.helpers import buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def chief(db):
    return testing.make_user("chief_operator", is_staff=True, is_superuser=True)


@pytest.fixture
def console(chief) -> Client:
    client = Client()
    client.force_login(chief)
    return client


def _action(console: Client, url: str, action: str, pk: int):
    return console.post(url, {"action": action, "_selected_action": [pk], "index": 0})


def _order(shop, product, buyer=None):
    return testing.ApiClient(buyer or testing.make_user()).post(
        "/orders",
        {
            "shop": shop.handle,
            "lines": [{"sku_id": product.skus.get().id, "quantity": 1}],
            "address": {"name": "A", "phone": "13800000009", "region": "R", "detail": "D"},
        },
    )


def test_the_admin_adds_and_edits_no_review(console, shop, product, supplier_pair):
    order = buy(shop=shop, product=product, receive=True, staff=supplier_pair[1])
    testing.ApiClient(order.buyer).post(
        f"/orders/{order.id}/reviews",
        {"sku_id": order.lines.get().sku_id, "rating": 2, "text": "meh"},
    )
    review = Review.objects.get()

    assert console.get("/admin/trust/review/add/").status_code == 403
    assert console.post("/admin/trust/review/add/", {"rating": 5}).status_code == 403
    changed = console.post(f"/admin/trust/review/{review.pk}/change/", {"rating": 5, "text": "!"})
    assert changed.status_code == 403
    # read, yes
    assert console.get(f"/admin/trust/review/{review.pk}/change/").status_code == 200
    assert console.get("/admin/trust/review/").status_code == 200
    # and nothing else can stand in for a review there
    assert admin.site.is_registered(Review)
    for model in (ReviewImage, ReviewReply):
        assert not admin.site.is_registered(model)
    review.refresh_from_db()
    assert (review.rating, review.text, Review.objects.count()) == (2, "meh", 1)


def test_the_fraud_queue_shows_the_evidence_and_voids_in_one_step(console, shop, product):
    sharer = testing.make_user()
    buy(shop=shop, product=product, buyer=sharer, detail="文三路 90 号 3 室")
    buy(shop=shop, product=product, sharer=sharer, detail="文三路90号3室")
    run_due()
    flag = FraudFlag.objects.get()
    keeper_before = ledger_queries.wallet(shop.owner, "shop")["pending"]

    page = console.get(f"/admin/trust/fraudflag/{flag.pk}/change/").content.decode()
    assert f"&quot;sharer_id&quot;: {sharer.id}" in page
    assert "文三路90号3室" in page
    assert f"#{flag.order_ids[0]}" in console.get("/admin/trust/fraudflag/").content.decode()

    response = _action(console, "/admin/trust/fraudflag/", "void", flag.pk)

    assert response.status_code == 302
    flag.refresh_from_db()
    assert flag.status == "voided"
    wallet = ledger_queries.wallet(sharer)
    assert (wallet["held"], wallet["pending"]) == (0, 0)
    assert ledger_queries.wallet(shop.owner, "shop")["pending"] == keeper_before + 990
    assert ledger_queries.health()["balanced"]


def test_the_operator_reopens_a_shop_closed_by_penalty_points(
    console, operator, shop, product, supplier_pair
):
    order = buy(shop=shop, product=product, receive=True, staff=supplier_pair[1])
    complaint = (
        testing.ApiClient(order.buyer)
        .post(f"/orders/{order.id}/complaints", {"reason": "service", "text": "Rude"})
        .json()
    )
    testing.ApiClient(operator).post(
        f"/complaints/{complaint['id']}/decision",
        {"upheld": True, "note": "rude", "penalty_points": 12, "penalize": "shop"},
    )
    refused = _order(shop, product)
    assert (refused.status_code, refused.json()["code"]) == (409, "suspended")
    # the flag is not a form field: only the actions change it
    form = console.get(f"/admin/shops/shop/{shop.pk}/change/").content.decode()
    assert 'name="is_suspended"' not in form

    response = _action(console, "/admin/shops/shop/", "reopen", shop.pk)

    assert response.status_code == 302
    shop.refresh_from_db()
    assert shop.is_suspended is False
    assert _order(shop, product).status_code == 201
    _action(console, "/admin/shops/shop/", "suspend", shop.pk)
    shop.refresh_from_db()
    assert shop.is_suspended is True


def test_the_operator_reinstates_a_supplier_suspended_by_penalty_points(
    console, operator, shop, product, supplier_pair
):
    supplier, staff = supplier_pair
    order = buy(shop=shop, product=product, receive=True, staff=staff)
    complaint = (
        testing.ApiClient(order.buyer)
        .post(f"/orders/{order.id}/complaints", {"reason": "counterfeit", "text": "Fake"})
        .json()
    )
    testing.ApiClient(operator).post(
        f"/complaints/{complaint['id']}/decision",
        {"upheld": True, "note": "fake", "penalty_points": 12},
    )
    supplier.refresh_from_db()
    assert supplier.status == "suspended"
    assert testing.ApiClient().get("/products").json()["count"] == 0

    response = _action(console, "/admin/catalog/supplier/", "mark_verified", supplier.pk)

    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.status == "verified"
    assert [item["id"] for item in testing.ApiClient().get("/products").json()["items"]] == [
        product.id
    ]
    assert _order(shop, product).status_code == 201
