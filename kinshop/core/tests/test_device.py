"""The device id: set once per browser, taken from an app's header, never trusted
when it does not look like one of ours."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory

from kinshop.core import device

pytestmark = pytest.mark.django_db

PAGE = "/accounts/sign-in/"


def _echo(request):
    return HttpResponse(request.device_id)


def test_a_first_visit_gets_a_long_lived_cookie_and_keeps_it():
    browser = Client()

    first = browser.get(PAGE)
    cookie = first.cookies[device.COOKIE_NAME]
    second = browser.get(PAGE)

    assert device.well_formed(cookie.value)
    assert cookie["max-age"] == device.COOKIE_MAX_AGE
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert device.COOKIE_NAME not in second.cookies  # already set: not sent again


def test_the_request_carries_the_cookie_the_browser_sent():
    request = RequestFactory().get("/")
    request.COOKIES[device.COOKIE_NAME] = "a" * 24

    response = device.DeviceIdMiddleware(_echo)(request)

    assert response.content.decode() == "a" * 24
    assert device.COOKIE_NAME not in response.cookies


def test_an_apps_header_wins_and_sets_no_cookie():
    request = RequestFactory().get("/", HTTP_X_DEVICE_ID="install-0123456789abcdef")
    request.COOKIES[device.COOKIE_NAME] = "b" * 24

    response = device.DeviceIdMiddleware(_echo)(request)

    assert response.content.decode() == "install-0123456789abcdef"
    assert device.COOKIE_NAME not in response.cookies


@pytest.mark.parametrize("value", ["", "short", "x" * 65, "<script>alert(1)</script>xx", "é" * 20])
def test_a_malformed_id_is_replaced_by_a_new_one(value):
    request = RequestFactory().get("/", HTTP_X_DEVICE_ID=value)
    request.COOKIES[device.COOKIE_NAME] = value

    response = device.DeviceIdMiddleware(_echo)(request)

    given = response.content.decode()
    assert given != value and device.well_formed(given)
    assert response.cookies[device.COOKIE_NAME].value == given


def test_only_a_device_the_client_sent_is_evidence():
    factory = RequestFactory()
    seen = {}

    def remember(request):
        seen["device"] = device.device_of(request)
        return HttpResponse("")

    middleware = device.DeviceIdMiddleware(remember)
    middleware(factory.get("/"))
    assert seen["device"] == ""  # minted for this request: nobody else can share it
    middleware(factory.get("/", HTTP_X_DEVICE_ID="app-install-0123456789"))
    assert seen["device"] == "app-install-0123456789"
    cookie_request = factory.get("/")
    cookie_request.COOKIES[device.COOKIE_NAME] = "browser-cookie-0123456789"
    middleware(cookie_request)
    assert seen["device"] == "browser-cookie-0123456789"
