"""Tokens that end (revoked, a password change, unused too long), throttled
sign-in (the API, the sign-in page, the admin's login), one account per ID
number and passwords unlike the username: issue 10, items 4 to 6."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from kinshop import testing
from kinshop.accounts.models import ApiToken, IdentityVerification
from kinshop.core import clock

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_token(user, client=None) -> str:
    client = client or Client()
    response = client.post(
        "/api/v1/auth/tokens",
        {"username": user.username, "password": testing.PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return response.json()["token"]


def me(token: str):
    return Client().get("/api/v1/me", headers=bearer(token))


# tokens


def test_revoke_token_ends_the_token_used_and_only_that_one():
    user = testing.make_user("ann")
    first, second = new_token(user), new_token(user)

    response = Client().delete("/api/v1/auth/tokens/current", headers=bearer(first))

    assert response.status_code == 204
    assert me(first).status_code == 401
    assert me(second).status_code == 200
    assert ApiToken.objects.filter(user=user, revoked_at__isnull=False).count() == 1


def test_revoke_token_needs_a_bearer_token():
    assert Client().delete("/api/v1/auth/tokens/current").status_code == 401
    response = Client().delete("/api/v1/auth/tokens/current", headers=bearer("ks_nope"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_changing_the_password_through_the_api_revokes_every_token():
    user = testing.make_user("ann")
    first, second = new_token(user), new_token(user)

    response = Client().post(
        "/api/v1/me/password",
        {"old_password": testing.PASSWORD, "new_password": "a-brand-new-secret-7"},
        content_type="application/json",
        headers=bearer(first),
    )

    assert response.status_code == 204
    assert me(first).status_code == 401 and me(second).status_code == 401
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    user.refresh_from_db()
    assert user.check_password("a-brand-new-secret-7")


def test_a_password_changed_anywhere_else_ends_the_tokens_too():
    # The admin, `kinshop changepassword` and Django's forms all call set_password.
    user = testing.make_user("ann")
    token = new_token(user)
    assert me(token).status_code == 200

    user.set_password("changed-in-the-admin-3")
    user.save()

    assert me(token).status_code == 401


def test_change_password_runs_the_validators_and_checks_the_old_one():
    user = testing.make_user("annabelle")
    token = new_token(user)

    def change(old, new):
        return Client().post(
            "/api/v1/me/password",
            {"old_password": old, "new_password": new},
            content_type="application/json",
            headers={**bearer(token), "Accept-Language": "en"},
        )

    wrong = change(WRONG, "a-brand-new-secret-7")
    similar = change(testing.PASSWORD, "annabelle2026")
    short = change(testing.PASSWORD, "x7")

    assert (wrong.status_code, wrong.json()["code"]) == (422, "wrong_password")
    assert (similar.status_code, similar.json()["code"]) == (422, "weak_password")
    assert "similar" in similar.json()["message"]
    assert (short.status_code, short.json()["code"]) == (422, "weak_password")
    assert me(token).status_code == 200  # nothing changed


def test_a_token_unused_for_the_idle_days_expires(settings, monkeypatch):
    settings.KINSHOP_TOKEN_IDLE_DAYS = 30
    user = testing.make_user("ann")
    token = new_token(user)
    later = clock.now() + dt.timedelta(days=29, hours=23)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert me(token).status_code == 200  # used just in time: the clock restarts

    monkeypatch.setattr(clock, "now", lambda: later + dt.timedelta(days=30))

    assert me(token).status_code == 401


def test_a_tokens_last_use_is_written_once_an_hour_not_per_request(monkeypatch):
    user = testing.make_user("ann")
    token = new_token(user)
    issued = ApiToken.objects.get(user=user).last_used_at
    start = clock.now()

    with testing.assert_query_count(1):  # the token and its user, nothing written
        from kinshop.accounts.services import token_for

        assert token_for(token) is not None
    monkeypatch.setattr(clock, "now", lambda: start + dt.timedelta(minutes=61))
    with testing.assert_query_count(2):  # and one conditional update
        assert token_for(token) is not None
    with testing.assert_query_count(1):
        assert token_for(token) is not None

    assert ApiToken.objects.get(user=user).last_used_at > issued


# throttling


def attempt_token(username: str, password: str, address: str = "127.0.0.1"):
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/tokens",
        {"username": username, "password": password},
        content_type="application/json",
    )


def test_after_ten_failures_for_a_username_the_right_password_is_refused_429():
    testing.make_user("ann")
    statuses = [attempt_token("ann", WRONG, f"10.0.0.{i}").status_code for i in range(10)]

    response = attempt_token("ANN", testing.PASSWORD, "10.0.1.1")

    assert statuses == [401] * 10
    assert response.status_code == 429
    assert response.json()["code"] == "too_many_attempts"
    assert "15 minutes" in response.json()["message"]
    assert set(response.json()) == {"code", "message"}


def test_after_ten_failures_from_one_address_every_username_is_refused():
    testing.make_user("ann")
    for i in range(10):
        attempt_token(f"nobody{i}", WRONG, "10.0.0.9")

    assert attempt_token("ann", testing.PASSWORD, "10.0.0.9").status_code == 429
    assert attempt_token("ann", testing.PASSWORD, "10.0.0.10").status_code == 201


def test_nine_failures_do_not_lock_and_the_window_passes():
    testing.make_user("ann")
    for _ in range(9):
        attempt_token("ann", WRONG)
    assert attempt_token("ann", testing.PASSWORD).status_code == 201

    attempt_token("ann", WRONG)  # the tenth
    assert attempt_token("ann", testing.PASSWORD).status_code == 429
    # 15 minutes after the failures, the window has passed
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))

    assert attempt_token("ann", testing.PASSWORD).status_code == 201


def test_the_sign_in_page_is_throttled_with_a_clear_message():
    testing.make_user("ann")
    browser = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(10):
        page = browser.post("/accounts/sign-in/", {"username": "ann", "password": WRONG})
        assert page.status_code == 200

    page = browser.post(
        "/accounts/sign-in/",
        {"username": "ann", "password": testing.PASSWORD},
        headers={"Accept-Language": "en"},
    )

    assert page.status_code == 429
    assert "Too many failed sign-ins" in page.content.decode()
    assert 'name="password"' in page.content.decode()  # the form, again
    assert "_auth_user_id" not in browser.session


def test_the_admin_login_is_throttled():
    operator = testing.make_operator("boss")
    browser = Client(REMOTE_ADDR="10.0.0.8")
    for _ in range(10):
        browser.post("/admin/login/", {"username": "boss", "password": WRONG})

    page = browser.post("/admin/login/", {"username": "boss", "password": testing.PASSWORD})

    assert page.status_code == 429
    assert "_auth_user_id" not in browser.session
    assert operator.is_staff


# identity


def test_an_id_number_with_a_wrong_check_digit_is_refused():
    client = testing.ApiClient(testing.make_user("ann"))

    response = client.post(
        "/me/identity", {"real_name": "Li Na", "id_number": "110105194912310021"}
    )

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_id_number"
    assert not IdentityVerification.objects.exists()


def test_one_id_number_verifies_one_account():
    first = testing.ApiClient(testing.make_user("ann"))
    second = testing.ApiClient(testing.make_user("bob"))
    first.post("/me/identity", {"real_name": "Li Na", "id_number": "11010519491231002X"})

    again = second.post("/me/identity", {"real_name": "Li Na", "id_number": "11010519491231002x"})
    old_form = second.post("/me/identity", {"real_name": "Li Na", "id_number": "110105491231002"})

    assert (again.status_code, again.json()["code"]) == (409, "id_number_in_use")
    assert (old_form.status_code, old_form.json()["code"]) == (409, "id_number_in_use")
    assert IdentityVerification.objects.count() == 1


def test_a_password_like_the_username_is_refused_at_registration():
    response = testing.ApiClient().post(
        "/accounts",
        {"username": "wangfang1988", "password": "wangfang1988!"},
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    assert "similar" in response.json()["message"]


def test_behind_a_proxy_failures_count_under_the_address_it_saw(settings):
    settings.KINSHOP_PROXY_COUNT = 1
    testing.make_user("ann")

    def attempt(forwarded_for: str, password: str = WRONG):
        return Client(REMOTE_ADDR="10.9.9.9").post(
            "/api/v1/auth/tokens",
            {"username": "ann", "password": password},
            content_type="application/json",
            headers={"X-Forwarded-For": forwarded_for},
        )

    # one client forging the left part of the header is still one client
    for i in range(10):
        attempt(f"1.1.1.{i}, 203.0.113.5", password=WRONG)
    testing.make_user("bob")
    refused = Client(REMOTE_ADDR="10.9.9.9").post(
        "/api/v1/auth/tokens",
        {"username": "bob", "password": testing.PASSWORD},
        content_type="application/json",
        headers={"X-Forwarded-For": "203.0.113.5"},
    )
    other_client = Client(REMOTE_ADDR="10.9.9.9").post(
        "/api/v1/auth/tokens",
        {"username": "bob", "password": testing.PASSWORD},
        content_type="application/json",
        headers={"X-Forwarded-For": "198.51.100.7"},
    )

    assert refused.status_code == 429
    assert other_client.status_code == 201
