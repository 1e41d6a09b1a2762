"""The trust pages: reviewing after receipt, complaining, answering, replying,
and trust on the product page."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from kinshop import testing
from kinshop.trust.models import Complaint, Review, ReviewReply
from kinshop.trust.tests.helpers import buy

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "blue").save(out, format="PNG")
    return out.getvalue()


def test_buyer_reviews_after_receipt_and_it_shows_on_the_product_page(shop, product, supplier_pair):
    _, staff = supplier_pair
    order = buy(shop=shop, product=product, receive=True, staff=staff)
    buyer = _client(order.buyer)
    sku_id = order.lines.get().sku_id
    detail = buyer.get(f"/orders/{order.id}/").content.decode()
    assert f"/orders/{order.id}/review/" in detail

    response = buyer.post(
        f"/orders/{order.id}/review/",
        {
            "sku": sku_id,
            "rating": "4",
            "text": "Crunchy",
            "images": [SimpleUploadedFile("a.png", _png(), content_type="image/png")],
        },
    )

    assert response.status_code == 302
    review = Review.objects.get()
    assert (review.rating, review.images.count()) == (4, 1)
    page = Client().get(f"/shop/{shop.handle}/p/{product.id}/").content.decode()
    assert "Crunchy" in page
    assert 'data-testid="trust-score"' in page

    # the supplier replies from the console's inbox
    staff_client = _client(staff)
    assert "Crunchy" in staff_client.get("/console/reviews/").content.decode()
    staff_client.post(f"/reviews/{review.id}/reply/", {"text": "Thanks a lot"})
    assert ReviewReply.objects.get().role == "supplier"
    assert "Thanks a lot" in Client().get(f"/shop/{shop.handle}/p/{product.id}/").content.decode()


def test_no_review_form_before_receipt(shop, product):
    order = buy(shop=shop, product=product)
    buyer = _client(order.buyer)
    page = buyer.get(f"/orders/{order.id}/review/").content.decode()
    assert "submit-review" not in page
    buyer.post(
        f"/orders/{order.id}/review/", {"sku": order.lines.get().sku_id, "rating": "5", "text": "x"}
    )
    assert not Review.objects.exists()
    assert _client(testing.make_user()).get(f"/orders/{order.id}/review/").status_code == 404


def test_complaint_filed_and_answered_on_pages(shop, product, supplier_pair):
    _, staff = supplier_pair
    order = buy(shop=shop, product=product)
    buyer = _client(order.buyer)
    response = buyer.post(
        f"/orders/{order.id}/complain/", {"reason": "not_received", "text": "Where is it?"}
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert "Where is it?" in buyer.get(f"/complaints/{complaint.id}/").content.decode()

    staff_client = _client(staff)
    staff_client.post(f"/complaints/{complaint.id}/respond/", {"text": "Shipping today"})
    complaint.refresh_from_db()
    assert complaint.status == "answered"
    assert _client(testing.make_user()).get(f"/complaints/{complaint.id}/").status_code == 404


def test_paying_on_the_sandbox_page_screens_the_order_at_once(shop, product):
    from kinshop.orders import services as orders
    from kinshop.payments import services as payments
    from kinshop.sharing import services as sharing
    from kinshop.trust.models import FraudFlag, OrderScreening
    from kinshop.trust.tests.helpers import address

    sharer = testing.make_user()
    buy(shop=shop, product=product, buyer=sharer, detail="同一个家 1 号")
    buyer = testing.make_user()
    code = sharing.create_share_link(sharer=sharer, shop=shop, product=product).code
    order = orders.place_order(
        buyer=buyer,
        shop=shop,
        lines=[orders.LineRequest(product.skus.get().id, 1)],
        address=address(detail="同一个家 1 号"),
        share_code=code,
    )
    payment = payments.start_payment(user=buyer, order_id=order.id, provider="sandbox")

    response = _client(buyer).post(f"/pay/sandbox/{payment.reference}/", {"payer_id": ""})

    assert response.status_code == 302
    assert OrderScreening.objects.filter(order=order).exists()
    assert FraudFlag.objects.get().kind == "linked_identity"


def test_trust_shows_where_buyers_and_shopkeepers_choose(shop, product, supplier_pair, operator):
    from kinshop.trust import services
    from kinshop.trust.tests.helpers import refund_fully

    _, staff = supplier_pair
    for rating in (5, 5, 3):
        order = buy(shop=shop, product=product, receive=True, staff=staff)
        services.create_review(
            user=order.buyer,
            order_id=order.id,
            sku_id=order.lines.get().sku_id,
            rating=rating,
            text=f"{rating} stars",
        )
    refund_fully(order, operator)  # the 3-star line

    # the product page: the badge, the score, the distribution, the refunded mark
    page = Client().get(f"/shop/{shop.handle}/p/{product.id}/").content.decode()
    assert 'data-testid="verified-badge"' in page
    assert 'data-testid="trust-score"' in page
    for stars, count in (("5", 2), ("4", 0), ("3", 1), ("2", 0), ("1", 0)):
        assert f'data-testid="rating-bar-{stars}" data-count="{count}"' in page
    assert page.count('data-testid="refunded-mark"') == 1
    # the storefront and the market the shopkeepers pick from
    assert 'data-testid="trust-score"' in Client().get(f"/shop/{shop.handle}/").content.decode()
    market = _client(shop.owner).get("/console/shop/market/").content.decode()
    assert 'data-testid="trust-score"' in market and "badge-verified" in market


def test_a_suppliers_page_shows_its_badge_until_verification_is_withdrawn(
    shop, product, supplier_pair, operator
):
    from kinshop.catalog import services as catalog

    supplier, _ = supplier_pair
    product_url = f"/shop/{shop.handle}/p/{product.id}/"
    assert f'href="/supplier/{supplier.id}/"' in Client().get(product_url).content.decode()
    market = _client(shop.owner).get("/console/shop/market/").content.decode()
    assert f'href="/supplier/{supplier.id}/"' in market

    page = Client().get(f"/supplier/{supplier.id}/")

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="verified-badge"' in html and 'data-testid="trust-score"' in html
    assert 'data-testid="penalty-points">0<' in html
    assert "verification-withdrawn" not in html
    chinese = Client(headers={"accept-language": "zh-hans"}).get(f"/supplier/{supplier.id}/")
    assert "认证供应商" in chinese.content.decode()

    # withdrawn: no badge but a notice, and its products leave the market
    catalog.change_supplier_status(supplier=supplier, to="suspended", actor=operator)
    html = Client().get(f"/supplier/{supplier.id}/").content.decode()
    assert 'data-testid="verified-badge"' not in html
    assert 'data-testid="verification-withdrawn"' in html
    assert Client().get(product_url).status_code == 404
    # a supplier never verified has no public page
    pending, _ = testing.make_supplier(verified=False)
    assert Client().get(f"/supplier/{pending.id}/").status_code == 404
    assert Client().get("/supplier/999999/").status_code == 404


def test_the_storefronts_trust_card_says_what_the_api_says_of_a_suspended_shop(shop, product):
    from kinshop.shops import services as shops
    from kinshop.web.trust_cards import shop_card_and_lifetime

    def storefronts_card():
        shop.refresh_from_db()
        return shop_card_and_lifetime(
            shop.pk, shop.storefront_version, is_suspended=shop.is_suspended
        )[0]

    operator = testing.make_user("operator-card", is_staff=True)
    api = Client()
    assert storefronts_card() == api.get(f"/api/v1/shops/{shop.handle}/trust").json()
    assert storefronts_card()["is_verified"] is True

    shops.set_shop_suspended(shop=shop, is_suspended=True, actor=operator)
    testing.commit()

    answer = api.get(f"/api/v1/shops/{shop.handle}/trust").json()
    assert answer["is_verified"] is False
    assert storefronts_card() == answer
