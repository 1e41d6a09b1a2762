from __future__ import annotations

import pytest
from django.test import Client

from kinshop.sharing.models import ShareLink

pytestmark = pytest.mark.django_db


def test_a_signed_in_sharer_gets_a_link_poster_and_earning(sharer, shop, product):
    browser = Client()
    browser.force_login(sharer)

    response = browser.post(
        "/share/", {"shop": "nutshop", "product": product.id}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    link = ShareLink.objects.get(sharer=sharer)
    page = response.content.decode()
    assert f'data-testid="share-link">http://testserver/s/{link.code}<' in page
    assert 'data-testid="share-poster"' in page and f"/s/{link.code}/poster.png" in page
    # 10% of ¥99.00, rounded down to the fen.
    assert "每单约赚 ¥9.90" in page


def test_sharing_twice_gives_the_same_link(sharer, shop):
    browser = Client()
    browser.force_login(sharer)

    browser.post("/share/", {"shop": "nutshop"}, HTTP_HX_REQUEST="true")
    browser.post("/share/", {"shop": "nutshop"}, HTTP_HX_REQUEST="true")

    assert ShareLink.objects.filter(sharer=sharer).count() == 1


def test_an_anonymous_visitor_is_asked_to_sign_in(shop, product):
    response = Client().post(
        "/share/", {"shop": "nutshop", "product": product.id}, HTTP_HX_REQUEST="true"
    )

    assert response.status_code == 200
    assert 'data-testid="share-sign-in"' in response.content.decode()
    assert ShareLink.objects.count() == 0


def test_without_htmx_the_sheet_is_a_page(sharer, shop):
    browser = Client()
    browser.force_login(sharer)

    response = browser.post("/share/", {"shop": "nutshop"})

    assert response.status_code == 200
    assert "<html" in response.content.decode()


def test_an_unknown_shop_or_product_is_404(sharer, shop):
    browser = Client()
    browser.force_login(sharer)

    assert browser.post("/share/", {"shop": "nobody"}).status_code == 404
    assert browser.post("/share/", {"shop": "nutshop", "product": 999999}).status_code == 404
    assert browser.get("/share/").status_code == 405


def test_sharing_needs_the_csrf_token(sharer, shop):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(sharer)

    assert browser.post("/share/", {"shop": "nutshop"}).status_code == 403
