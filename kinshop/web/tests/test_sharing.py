"""The share pages: a link's landing (/s/<code>), its poster and the share sheet."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from kinshop import testing
from kinshop.core import clock
from kinshop.sharing import services
from kinshop.sharing.cookie import share_code_of
from kinshop.sharing.models import Click, ShareLink

pytestmark = pytest.mark.django_db


def test_a_product_link_records_the_click_and_redirects(sharer, shop, product):
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    browser = Client()

    response = browser.get(f"/s/{link.code}?c=qr")

    assert response.status_code == 302
    assert response["Location"] == f"/shop/nutshop/p/{product.id}/"
    click = Click.objects.get()
    assert (click.link_id, click.channel, click.viewer_id) == (link.id, "qr", None)
    assert click.visitor_key and click.visitor_key == browser.cookies["kinshop_device"].value
    # the code checkout attributes with travels in a signed cookie, not the session
    assert share_code_of(browser.get("/").wsgi_request) == link.code
    assert "sessionid" not in browser.cookies


def test_a_cached_landing_writes_its_click_and_nothing_else(sharer, shop, product):
    # given the link was opened once (its target is now in the cache)
    link = services.create_share_link(sharer=sharer, shop=shop, product=product)
    Client().get(f"/s/{link.code}")
    # when a new visitor opens it
    with testing.assert_query_count(1) as captured:
        response = Client().get(f"/s/{link.code}")
    # then the click's INSERT was the only statement
    assert response.status_code == 302
    assert captured.captured_queries[0]["sql"].startswith("INSERT")
    assert Click.objects.count() == 2


def test_a_flood_from_one_visitor_counts_once_per_window(sharer, shop, settings):
    settings.KINSHOP_CLICK_WINDOW_MINUTES = 30
    link = services.create_share_link(sharer=sharer, shop=shop)
    browser, other = Client(), Client()
    # a minute into a window, so that the flood stays inside it
    now = clock.now()
    to_window = dt.timedelta(minutes=31) - dt.timedelta(
        seconds=int(now.timestamp()) % (30 * 60), microseconds=now.microsecond
    )

    # when one visitor opens the link 50 times in a window, and another once
    with clock.travel(to_window):
        for _ in range(50):
            assert browser.get(f"/s/{link.code}").status_code == 302
        other.get(f"/s/{link.code}")
    # then they count as two clicks; the first visitor's next window counts again
    assert Click.objects.count() == 2
    with clock.travel(to_window + dt.timedelta(minutes=30)):
        browser.get(f"/s/{link.code}")
    assert Click.objects.filter(visitor_key=browser.cookies["kinshop_device"].value).count() == 2


def test_a_shop_link_redirects_to_the_shop_and_knows_the_signed_in_viewer(sharer, shop, buyer):
    link = services.create_share_link(sharer=sharer, shop=shop)
    browser = Client()
    browser.force_login(buyer)

    response = browser.get(f"/s/{link.code}/")

    assert (response.status_code, response["Location"]) == (302, "/shop/nutshop/")
    click = Click.objects.get()
    assert (click.viewer_id, click.channel) == (buyer.id, "link")


def test_an_unknown_channel_counts_as_a_link(sharer, shop):
    link = services.create_share_link(sharer=sharer, shop=shop)

    Client().get(f"/s/{link.code}?c=spam")

    assert Click.objects.get().channel == "link"


def test_clicks_before_signing_in_are_claimed_on_the_next_visit(sharer, shop):
    link = services.create_share_link(sharer=sharer, shop=shop)
    browser = Client()
    browser.get(f"/s/{link.code}")
    other_link = services.create_share_link(sharer=testing.make_user("other"), shop=shop)
    browser.get(f"/s/{other_link.code}")
    newcomer = testing.make_user("newcomer")
    browser.force_login(newcomer)  # same device cookie

    browser.get(f"/s/{link.code}")

    # both earlier clicks are claimed; the repeat within the window adds none
    assert list(Click.objects.values_list("viewer_id", flat=True)) == [newcomer.id, newcomer.id]


def test_an_unknown_code_shows_a_friendly_page(db):
    response = Client().get("/s/bcdfg23456")

    assert response.status_code == 404
    assert "这个分享链接不存在" in response.content.decode()  # zh-hans is the default language
    assert Click.objects.count() == 0


def test_the_poster_page_serves_a_png(sharer, shop):
    link = services.create_share_link(sharer=sharer, shop=shop)

    response = Client().get(f"/s/{link.code}/poster.png")

    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    assert Client().get("/s/bcdfg23456/poster.png").status_code == 404


# -- the share sheet --
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
