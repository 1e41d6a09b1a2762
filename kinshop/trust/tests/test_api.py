"""The trust operations of the API contract, with the hostile cases of issue 12."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from kinshop import testing
from kinshop.ledger import queries as ledger_queries
from kinshop.trust.models import Complaint, Review
from kinshop.trust.tests.helpers import buy

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(supplier_pair):
    return supplier_pair[1]


@pytest.fixture
def received(shop, product, staff):
    return buy(shop=shop, product=product, receive=True, staff=staff)


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (3000, 2000), "red")
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x0131] = "gps-here"  # Software
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def test_the_buyer_reviews_a_completed_order_with_images(received, product):
    client = testing.ApiClient(received.buyer)
    sku_id = received.lines.get().sku_id
    image = base64.b64encode(_jpeg_with_exif()).decode()

    response = client.post(
        f"/orders/{received.id}/reviews",
        {"sku_id": sku_id, "rating": 5, "text": "Fresh and crisp", "images": [image]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["rating"], body["verified_purchase"], body["is_refunded"]) == (5, True, False)
    assert len(body["images"]) == 1
    stored = Review.objects.get().images.get().image
    with Image.open(stored.open("rb")) as picture:
        assert max(picture.size) == 1600
        assert not picture.getexif()
    listed = testing.ApiClient().get(f"/products/{product.id}/reviews").json()
    assert listed["count"] == 1
    assert listed["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}


def test_no_review_without_a_completed_order(shop, product):
    order = buy(shop=shop, product=product)  # paid, not received
    response = testing.ApiClient(order.buyer).post(
        f"/orders/{order.id}/reviews",
        {"sku_id": order.lines.get().sku_id, "rating": 5, "text": "great"},
    )
    assert (response.status_code, response.json()["code"]) == (409, "not_completed")
    assert not Review.objects.exists()


def test_a_line_is_reviewed_once(received):
    client = testing.ApiClient(received.buyer)
    body = {"sku_id": received.lines.get().sku_id, "rating": 4, "text": "ok"}
    assert client.post(f"/orders/{received.id}/reviews", body).status_code == 201
    second = client.post(f"/orders/{received.id}/reviews", body)
    assert (second.status_code, second.json()["code"]) == (409, "already_reviewed")
    assert Review.objects.count() == 1


def test_nobody_else_reviews_the_buyers_order(received):
    stranger = testing.ApiClient(testing.make_user())
    response = stranger.post(
        f"/orders/{received.id}/reviews",
        {"sku_id": received.lines.get().sku_id, "rating": 1, "text": "bad"},
    )
    assert response.status_code == 404
    keeper = testing.ApiClient(received.shop.owner)
    response = keeper.post(
        f"/orders/{received.id}/reviews",
        {"sku_id": received.lines.get().sku_id, "rating": 5, "text": "best"},
    )
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_bad_input_is_refused_not_crashed(received):
    client = testing.ApiClient(received.buyer)
    sku_id = received.lines.get().sku_id
    for body in (
        {"sku_id": sku_id, "rating": 6, "text": "x"},
        {"sku_id": sku_id, "rating": 0, "text": "x"},
        {"sku_id": sku_id, "rating": 3, "text": ""},
        {"sku_id": sku_id, "rating": 3, "text": "x", "images": ["not base64!"]},
        {"sku_id": sku_id, "rating": 3, "text": "x", "images": [base64.b64encode(b"abc").decode()]},
        {"sku_id": sku_id, "rating": 3, "text": "x", "images": ["aGVsbG8="] * 7},
        {"sku_id": 999999, "rating": 3, "text": "x"},
    ):
        response = client.post(f"/orders/{received.id}/reviews", body)
        assert response.status_code in (400, 422), (body, response.content)
    assert not Review.objects.exists()


def test_follow_up_once_by_the_reviewer_and_replies(received, staff):
    client = testing.ApiClient(received.buyer)
    review = client.post(
        f"/orders/{received.id}/reviews",
        {"sku_id": received.lines.get().sku_id, "rating": 3, "text": "ok"},
    ).json()

    other = testing.ApiClient(testing.make_user()).post(
        f"/reviews/{review['id']}/follow-ups", {"text": "me too"}
    )
    assert other.status_code == 403
    first = client.post(f"/reviews/{review['id']}/follow-ups", {"text": "after a month: fine"})
    assert first.status_code == 201
    assert first.json()["follow_up"] == "after a month: fine"
    again = client.post(f"/reviews/{review['id']}/follow-ups", {"text": "again"})
    assert (again.status_code, again.json()["code"]) == (409, "already_followed_up")

    reply = testing.ApiClient(staff).post(f"/reviews/{review['id']}/replies", {"text": "Thanks"})
    assert (reply.status_code, reply.json()["role"]) == (201, "supplier")
    keeper = testing.ApiClient(received.shop.owner).post(
        f"/reviews/{review['id']}/replies", {"text": "Thank you!"}
    )
    assert (keeper.status_code, keeper.json()["role"]) == (201, "shop")


def test_another_supplier_cannot_reply(received):
    _, other_staff = testing.make_supplier()
    review = (
        testing.ApiClient(received.buyer)
        .post(
            f"/orders/{received.id}/reviews",
            {"sku_id": received.lines.get().sku_id, "rating": 1, "text": "bad"},
        )
        .json()
    )
    response = testing.ApiClient(other_staff).post(
        f"/reviews/{review['id']}/replies", {"text": "ignore this"}
    )
    assert (response.status_code, response.json()["code"]) == (403, "not_allowed")
    assert (
        testing.ApiClient(testing.make_user())
        .post("/reviews/999999/replies", {"text": "x"})
        .status_code
        == 404
    )


def test_a_refunded_lines_review_is_marked(received, operator, product):
    testing.ApiClient(received.buyer).post(
        f"/orders/{received.id}/reviews",
        {"sku_id": received.lines.get().sku_id, "rating": 2, "text": "broken"},
    )
    from kinshop.trust.tests.helpers import refund_fully

    refund_fully(received, operator)
    listed = testing.ApiClient().get(f"/products/{product.id}/reviews").json()
    assert listed["items"][0]["is_refunded"] is True


def test_trust_cards_are_public(received, shop, supplier_pair):
    supplier, _ = supplier_pair
    testing.ApiClient(received.buyer).post(
        f"/orders/{received.id}/reviews",
        {"sku_id": received.lines.get().sku_id, "rating": 5, "text": "good"},
    )
    anonymous = testing.ApiClient()
    card = anonymous.get(f"/suppliers/{supplier.id}/trust").json()
    assert card["rating"] == {"average": 5.0, "count": 1, "bayesian": 3.57}
    assert card["is_verified"] is True
    assert card["on_time_shipping_rate"] == 10000
    assert 0 <= card["score"] <= 100
    shop_card = anonymous.get(f"/shops/{shop.handle}/trust").json()
    assert shop_card["rating"]["count"] == 1
    assert anonymous.get("/suppliers/999999/trust").status_code == 404
    assert anonymous.get("/shops/no-such-shop/trust").status_code == 404


# ---- complaints -------------------------------------------------------------------------


def test_complaint_exchange_and_an_upheld_decision_with_refund_and_points(
    received, staff, operator, settings
):
    settings.KINSHOP_SUSPEND_POINTS = 12
    buyer = testing.ApiClient(received.buyer)
    filed = buyer.post(
        f"/orders/{received.id}/complaints", {"reason": "damaged", "text": "Shell cracked"}
    )
    assert filed.status_code == 201, filed.content
    complaint = filed.json()
    assert complaint["status"] == "open" and complaint["respond_by"]

    answered = testing.ApiClient(staff).post(
        f"/complaints/{complaint['id']}/responses", {"text": "Sorry, we'll look"}
    )
    assert (answered.status_code, answered.json()["status"]) == (201, "answered")
    assert (
        testing.ApiClient(received.shop.owner).get(f"/complaints/{complaint['id']}").status_code
        == 200
    )
    assert buyer.get("/complaints").json()["count"] == 1

    not_operator = testing.ApiClient(staff).post(
        f"/complaints/{complaint['id']}/decision", {"upheld": True, "note": "mine"}
    )
    assert not_operator.status_code == 403
    decided = testing.ApiClient(operator).post(
        f"/complaints/{complaint['id']}/decision",
        {"upheld": True, "note": "Photos show damage", "refund_amount": 3000, "penalty_points": 12},
    )
    assert decided.status_code == 200, decided.content
    body = decided.json()
    assert body["status"] == "upheld" and body["refund_id"]
    assert [m["role"] for m in body["messages"]] == ["buyer", "supplier", "operator"]
    received.refresh_from_db()
    assert received.refunded_amount == 3000  # through the normal refund path
    # 12 points within a year suspend the supplier: its products leave the market
    received.lines.get().supplier.refresh_from_db()
    assert received.lines.get().supplier.status == "suspended"
    again = testing.ApiClient(received.buyer).post(
        "/orders",
        {
            "shop": received.shop.handle,
            "lines": [{"sku_id": received.lines.get().sku_id, "quantity": 1}],
            "address": {"name": "A", "phone": "13800000009", "region": "R", "detail": "D"},
        },
    )
    # (its products are off the market: not sold here, as for any suspended supplier)
    assert (again.status_code, again.json()["code"]) == (422, "sku_not_sold_here")


def test_shop_penalties_close_it_to_new_orders(received, operator, product):
    complaint = (
        testing.ApiClient(received.buyer)
        .post(f"/orders/{received.id}/complaints", {"reason": "service", "text": "Rude"})
        .json()
    )
    testing.ApiClient(operator).post(
        f"/complaints/{complaint['id']}/decision",
        {"upheld": True, "note": "rude", "penalty_points": 12, "penalize": "shop"},
    )
    response = testing.ApiClient(testing.make_user()).post(
        "/orders",
        {
            "shop": received.shop.handle,
            "lines": [{"sku_id": product.skus.get().id, "quantity": 1}],
            "address": {"name": "A", "phone": "13800000009", "region": "R", "detail": "D"},
        },
    )
    assert (response.status_code, response.json()["code"]) == (409, "suspended")
    # reversibly, by the operator
    from kinshop.trust import services

    services.reinstate_shop(user=operator, shop=received.shop)
    received.shop.refresh_from_db()
    assert received.shop.is_suspended is False


def test_no_complaint_on_someone_elses_order(received):
    response = testing.ApiClient(testing.make_user()).post(
        f"/orders/{received.id}/complaints", {"reason": "other", "text": "hm"}
    )
    assert response.status_code == 404
    bad = testing.ApiClient(received.buyer).post(
        f"/orders/{received.id}/complaints", {"reason": "bored", "text": "hm"}
    )
    assert bad.status_code == 422
    assert not Complaint.objects.exists()


def test_strangers_neither_see_nor_answer_a_complaint(received):
    complaint = (
        testing.ApiClient(received.buyer)
        .post(f"/orders/{received.id}/complaints", {"reason": "other", "text": "hm"})
        .json()
    )
    stranger = testing.ApiClient(testing.make_user())
    assert stranger.get(f"/complaints/{complaint['id']}").status_code == 404
    assert (
        stranger.post(f"/complaints/{complaint['id']}/responses", {"text": "x"}).status_code == 404
    )
    assert stranger.get("/complaints").json()["count"] == 0
    own = testing.ApiClient(received.buyer).post(
        f"/complaints/{complaint['id']}/responses", {"text": "me"}
    )
    assert own.status_code == 403


def test_an_unanswered_complaint_is_escalated_by_the_job(received, operator):
    import datetime as dt

    from kinshop.core import clock
    from kinshop.ops.jobs import run_due

    complaint = (
        testing.ApiClient(received.buyer)
        .post(
            f"/orders/{received.id}/complaints", {"reason": "not_as_described", "text": "smaller"}
        )
        .json()
    )
    run_due(clock.now() + dt.timedelta(hours=47))
    assert Complaint.objects.get().status == "open"
    run_due(clock.now() + dt.timedelta(hours=49))
    assert Complaint.objects.get().status == "escalated"
    listed = testing.ApiClient(operator).get("/complaints", status="escalated").json()
    assert [item["id"] for item in listed["items"]] == [complaint["id"]]
    assert listed["items"][0]["messages"][-1]["role"] == "system"
    dismissed = testing.ApiClient(operator).post(
        f"/complaints/{complaint['id']}/decision", {"upheld": False, "note": "as described"}
    )
    assert dismissed.json()["status"] == "dismissed"


def test_an_answer_after_the_deadline_still_goes_to_the_operator(received, staff, operator):
    import datetime as dt

    from kinshop.core import clock
    from kinshop.ops.jobs import run_due

    complaint = (
        testing.ApiClient(received.buyer)
        .post(f"/orders/{received.id}/complaints", {"reason": "damaged", "text": "cracked"})
        .json()
    )

    # the supplier answers at hour 49, before the job has run
    with clock.travel(dt.timedelta(hours=49)):
        late = testing.ApiClient(staff).post(
            f"/complaints/{complaint['id']}/responses", {"text": "Sorry, late"}
        )
        assert run_due()["escalate_complaints"] == 0

    assert late.status_code == 201, late.content
    body = late.json()
    assert body["status"] == "escalated"
    assert [m["role"] for m in body["messages"]] == ["buyer", "system", "supplier"]
    listed = testing.ApiClient(operator).get("/complaints", status="escalated").json()
    assert [item["id"] for item in listed["items"]] == [complaint["id"]]


# ---- fraud flags -----------------------------------------------------------------------


def test_fraud_queue_is_for_operators(operator):
    assert testing.ApiClient(testing.make_user()).get("/fraud/flags").status_code == 403
    assert testing.ApiClient(operator).get("/fraud/flags").json() == {"items": [], "count": 0}
    response = testing.ApiClient(operator).post(
        "/fraud/flags/99999/resolve", {"decision": "release"}
    )
    assert response.status_code == 404


def test_a_shared_address_holds_the_commission_until_released(shop, product, operator):
    from kinshop.ops.jobs import run_due

    sharer = testing.make_user()
    # the sharer once shipped their own order home
    buy(shop=shop, product=product, buyer=sharer, detail="文三路 90 号 3 室")
    order = buy(shop=shop, product=product, sharer=sharer, detail="文三路90号3室")
    assert order.lines.get().commission_beneficiary_id == sharer.id

    run_due()

    flags = testing.ApiClient(operator).get("/fraud/flags").json()
    assert flags["count"] == 1
    flag = flags["items"][0]
    assert flag["kind"] == "linked_identity" and flag["status"] == "open"
    assert flag["order_ids"] == [order.id]
    assert flag["evidence"]["sharer_id"] == sharer.id
    wallet = testing.ApiClient(sharer).get("/wallet").json()
    assert (wallet["held"], wallet["pending"]) == (990, 0)

    resolved = testing.ApiClient(operator).post(
        f"/fraud/flags/{flag['id']}/resolve", {"decision": "release", "note": "family"}
    )
    assert resolved.json()["status"] == "released"
    wallet = testing.ApiClient(sharer).get("/wallet").json()
    assert (wallet["held"], wallet["pending"]) == (0, 990)
    again = testing.ApiClient(operator).post(
        f"/fraud/flags/{flag['id']}/resolve", {"decision": "void"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert ledger_queries.health()["balanced"]
