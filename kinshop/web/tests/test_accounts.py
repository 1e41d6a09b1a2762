from __future__ import annotations

import pytest
from django.test import Client

from kinshop import testing
from kinshop.accounts.models import User

pytestmark = pytest.mark.django_db


def test_sign_up_signs_in_keeps_the_share_code_and_goes_next():
    browser = Client()
    session = browser.session
    session["share_code"] = "abc123"
    session.save()
    page = browser.get("/accounts/sign-up/?next=/cart/").content.decode()
    assert 'data-testid="sign-up"' in page and 'name="phone"' in page

    response = browser.post(
        "/accounts/sign-up/",
        {"username": "xiaoming", "password": testing.PASSWORD, "phone": "", "next": "/cart/"},
    )

    assert response["Location"] == "/cart/"
    assert User.objects.filter(username="xiaoming").exists()
    assert browser.session["share_code"] == "abc123"


def test_sign_up_refuses_a_taken_name_in_words():
    testing.make_user("taken")

    response = Client().post(
        "/accounts/sign-up/", {"username": "taken", "password": testing.PASSWORD}
    )

    assert response.status_code == 200
    assert "这个用户名已被占用" in response.content.decode()


def test_sign_up_never_redirects_off_site():
    response = Client().post(
        "/accounts/sign-up/",
        {"username": "safe1", "password": testing.PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == "/"


def test_sign_in_links_to_sign_up_and_signs_in():
    testing.make_user("ada")
    browser = Client()
    page = browser.get("/accounts/sign-in/?next=/orders/").content.decode()
    assert 'data-testid="go-sign-up"' in page and 'data-testid="sign-in"' in page

    response = browser.post(
        "/accounts/sign-in/", {"username": "ada", "password": testing.PASSWORD, "next": "/orders/"}
    )

    assert response["Location"] == "/orders/"


def test_sign_out_is_a_post():
    browser = Client()
    browser.force_login(testing.make_user("leaver"))
    page = browser.get("/").content.decode()
    assert 'data-testid="sign-out"' in page

    assert browser.post("/accounts/sign-out/").status_code == 302
    assert "_auth_user_id" not in browser.session


def test_the_menu_shows_the_consoles_a_user_may_open(shop, supplier_pair, operator):
    _, staff = supplier_pair
    keeper = Client()
    keeper.force_login(shop.owner)
    supplier = Client()
    supplier.force_login(staff)
    admin = Client()
    admin.force_login(operator)

    assert "/console/shop/" in keeper.get("/").content.decode()
    assert "/console/supplier/" not in keeper.get("/").content.decode()
    assert "/console/supplier/" in supplier.get("/").content.decode()
    assert 'href="/admin/"' in admin.get("/").content.decode()


def test_sign_in_needs_the_csrf_token():
    testing.make_user("ada2")
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/accounts/sign-in/", {"username": "ada2", "password": "x"})

    assert response.status_code == 403
    assert "表单已过期" in response.content.decode()


def test_errors_are_pages_in_the_visitors_language(settings):
    settings.DEBUG = False
    page = Client().get("/no/such/page/")
    assert page.status_code == 404
    assert "页面不在这里" in page.content.decode()
    english = Client()
    english.cookies["django_language"] = "en"
    assert "This page is not here" in english.get("/no/such/page/").content.decode()
