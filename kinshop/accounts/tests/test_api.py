"""Accounts through /api/v1: register, create_token, me, verify_identity, and the
authentication every endpoint shares (bearer token, session + CSRF)."""

from __future__ import annotations

import pytest
from django.test import Client

from kinshop import settings as production_settings
from kinshop import testing
from kinshop.accounts import queries, rules, services
from kinshop.accounts.models import ApiToken, IdentityVerification, User
from kinshop.core import clock

pytestmark = pytest.mark.django_db


def error(response) -> dict:
    body = response.json()
    assert set(body) <= {"code", "message", "details"}
    assert isinstance(body["message"], str) and body["message"]
    return body


# register


def test_anyone_can_register_and_the_password_is_hashed_with_argon2(api, settings):
    # the suite hashes with MD5 for speed (conftest.py): put production's hashers back
    settings.PASSWORD_HASHERS = production_settings.PASSWORD_HASHERS
    response = api().post(
        "/accounts",
        {"username": "ann", "password": testing.PASSWORD, "email": "ann@example.com"},
    )

    assert response.status_code == 201
    user = User.objects.get(username="ann")
    assert response.json() == {"id": user.id, "username": "ann"}
    assert user.password.startswith("argon2")
    assert testing.PASSWORD not in user.password
    assert user.check_password(testing.PASSWORD)


def test_register_normalises_the_phone(api):
    response = api().post(
        "/accounts", {"username": "bob", "password": testing.PASSWORD, "phone": "+86 138-0013-8000"}
    )

    assert response.status_code == 201
    assert User.objects.get(username="bob").phone == "13800138000"


def test_a_username_is_taken_regardless_of_case(api):
    testing.make_user("Ann")

    response = api().post("/accounts", {"username": "ann", "password": testing.PASSWORD})

    assert response.status_code == 409
    assert error(response)["code"] == "username_taken"
    assert User.objects.filter(username__iexact="ann").count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"username": "an", "password": testing.PASSWORD}, "invalid_username"),
        ({"username": "ann lee", "password": testing.PASSWORD}, "invalid_username"),
        ({"username": "ann", "password": "short"}, "weak_password"),
        ({"username": "ann", "password": "12345678901"}, "weak_password"),
        ({"username": "ann", "password": testing.PASSWORD, "email": "nope"}, "invalid_email"),
        ({"username": "ann", "password": testing.PASSWORD, "phone": "12ab"}, "invalid_phone"),
        ({"username": "ann"}, "invalid_input"),
        ({"password": testing.PASSWORD}, "invalid_input"),
        ({"username": ["ann"], "password": testing.PASSWORD}, "invalid_input"),
        ({"username": "ann", "password": 12345678}, "invalid_input"),
    ],
)
def test_register_refuses_bad_input(api, payload, code):
    response = api().post("/accounts", payload)

    assert response.status_code == 422
    assert error(response)["code"] == code
    assert not User.objects.exists()


def test_invalid_input_names_the_fields(api):
    response = api().post("/accounts", {"username": "ann"})

    body = response.json()
    assert body["code"] == "invalid_input"
    assert {"field": "body.payload.password", "problem": "Field required"} in body["details"][
        "errors"
    ]


@pytest.mark.parametrize("body", ["{not json", '{"username": "ann",', "[1, 2", "nul"])
def test_malformed_json_is_a_400(body):
    response = Client().post("/api/v1/accounts", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_body",
        "message": "The request body is not valid JSON.",
    }


def test_a_json_array_instead_of_an_object_is_invalid_input():
    response = Client().post("/api/v1/accounts", data="[1, 2]", content_type="application/json")

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


# create_token


def test_a_token_is_given_for_the_right_password_and_stored_only_as_its_hash(api):
    user = testing.make_user("ann")

    response = api().post("/auth/tokens", {"username": "ANN", "password": testing.PASSWORD})

    assert response.status_code == 201
    token = response.json()["token"]
    assert token.startswith("ks_")
    record = ApiToken.objects.get(user=user)
    assert record.key_hash == rules.hash_token(token)
    assert record.prefix == token[:10]
    for row in ApiToken.objects.values():
        assert all(token not in str(value) for value in row.values())


@pytest.mark.parametrize(
    ("username", "password"), [("ann", "wrong-password-123"), ("nobody", testing.PASSWORD)]
)
def test_no_token_for_a_wrong_password_or_unknown_user(api, username, password):
    testing.make_user("ann")

    response = api().post("/auth/tokens", {"username": username, "password": password})

    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "message": "Wrong username or password.",
    }
    assert not ApiToken.objects.exists()


def test_no_token_for_a_deactivated_user(api):
    testing.make_user("ann", is_active=False)

    response = api().post("/auth/tokens", {"username": "ann", "password": testing.PASSWORD})

    assert response.status_code == 401
    assert error(response)["code"] == "invalid_credentials"


def test_create_token_with_missing_fields_is_invalid_input(api):
    response = api().post("/auth/tokens", {"username": "ann"})

    assert response.status_code == 422
    assert error(response)["code"] == "invalid_input"


# me and authentication


def test_me_for_a_plain_user(api):
    user = testing.make_user("ann")

    response = api(user).get("/me")

    assert response.status_code == 200
    assert response.json() == {
        "id": user.id,
        "username": "ann",
        "display_name": "ann",
        "roles": ["consumer", "sharer"],
        "supplier_id": None,
        "shop_handle": None,
        "identity_verified": False,
    }


def test_me_shows_the_roles_a_user_has(api, shop, supplier_pair, operator):
    supplier, staff = supplier_pair

    keeper = api(shop.owner).get("/me").json()
    staff_me = api(staff).get("/me").json()
    operator_me = api(operator).get("/me").json()

    assert keeper["roles"] == ["consumer", "sharer", "shopkeeper"]
    assert keeper["shop_handle"] == "nutshop"
    assert staff_me["roles"] == ["consumer", "sharer", "supplier"]
    assert staff_me["supplier_id"] == supplier.id
    assert operator_me["roles"] == ["consumer", "sharer", "operator"]


def test_me_refuses_anonymous_callers(api):
    response = api().get("/me")

    assert response.status_code == 401
    assert response.json() == {"code": "not_authenticated", "message": "Sign in first."}


@pytest.mark.parametrize("header", ["Bearer ks_not-a-token", "Bearer ", "Basic abc", "ks_x"])
def test_a_bad_authorization_header_is_a_401(header):
    response = Client().get("/api/v1/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"


def test_a_revoked_token_no_longer_signs_in(api):
    user = testing.make_user("ann")
    client = api(user)
    ApiToken.objects.filter(user=user).update(revoked_at="2020-01-01T00:00:00Z")

    assert client.get("/me").status_code == 401


def test_a_deactivated_users_token_no_longer_signs_in(api):
    user = testing.make_user("ann")
    client = api(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert client.get("/me").status_code == 401


def test_the_token_read_loads_what_the_orm_loads():
    # given a token in use (its last use written), of a user with a login
    user = testing.make_user("ann", phone="13800000009")
    record, token = services.issue_token(user=user, name="app")
    services.token_for(token)  # its first use, written
    User.objects.filter(pk=user.pk).update(last_login=clock.now())
    # when a request's token is read (the written-out query), in one statement
    with testing.assert_query_count(1):
        found = queries.unrevoked_token(rules.hash_token(token))
    # then the token and its user are what the ORM gives, field by field, with
    # aware datetimes and real booleans on every database
    expected = ApiToken.objects.select_related("user").get(pk=record.pk)
    for model, got, want in ((ApiToken, found, expected), (User, found.user, expected.user)):
        for field in model._meta.concrete_fields:
            assert getattr(got, field.attname) == getattr(want, field.attname), field.name
    assert found.user.last_login.tzinfo is not None and found.user.is_active is True
    assert not found._state.adding and found.user._state.db == "default"


def test_me_works_with_a_browser_session():
    user = testing.make_user("ann")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.get("/api/v1/me")

    assert response.status_code == 200
    assert response.json()["username"] == "ann"


# session + CSRF on unsafe methods


def _csrf_token(client: Client) -> str:
    client.get("/")  # any page sets the CSRF cookie; fall back to minting one
    cookie = client.cookies.get("csrftoken")
    if cookie is None:
        from django.middleware.csrf import _get_new_csrf_string

        client.cookies["csrftoken"] = _get_new_csrf_string()
        cookie = client.cookies["csrftoken"]
    return cookie.value


def test_a_session_post_without_a_csrf_token_is_refused():
    user = testing.make_user("ann")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(
        "/api/v1/me/identity",
        {"real_name": "Li Na", "id_number": "11010519491231002X"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json() == {"code": "csrf_failed", "message": "The CSRF check failed."}
    assert not IdentityVerification.objects.exists()


def test_a_session_post_with_the_csrf_token_works():
    user = testing.make_user("ann")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    token = _csrf_token(client)

    response = client.post(
        "/api/v1/me/identity",
        {"real_name": "Li Na", "id_number": "11010519491231002X"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 200
    assert IdentityVerification.objects.filter(user=user).count() == 1


def test_an_anonymous_post_without_session_or_token_is_a_401_not_a_csrf_failure():
    # given a real API client: no cookies, CSRF enforced as in production
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/suppliers", {"name": "X", "license_no": "L"}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_bearer_token_needs_no_csrf_token():
    user = testing.make_user("ann")
    _, token = testing.accounts.create_token(username="ann", password=testing.PASSWORD)
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/me/identity",
        {"real_name": "Li Na", "id_number": "11010519491231002X"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert IdentityVerification.objects.filter(user=user).count() == 1


def test_public_registration_needs_no_csrf_token():
    client = Client(enforce_csrf_checks=True)

    response = client.post(
        "/api/v1/accounts",
        {"username": "ann", "password": testing.PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 201


# verify_identity


def test_verify_identity_keeps_only_a_masked_number_and_a_keyed_hash(api, settings):
    user = testing.make_user("ann")

    response = api(user).post(
        "/me/identity", {"real_name": " Li Na ", "id_number": "110105 19491231 002x"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "real_name": "Li Na",
        "id_number_masked": "110***********002X",
        "verified": True,
    }
    identity = IdentityVerification.objects.get(user=user)
    assert identity.id_number_hash == rules.hash_id_number(
        "11010519491231002X", settings.SECRET_KEY
    )
    stored = " ".join(
        str(value) for value in IdentityVerification.objects.values().first().values()
    )
    assert "11010519491231002X" not in stored
    assert api(user).get("/me").json()["identity_verified"] is True


def test_verifying_again_replaces_the_record(api):
    user = testing.make_user("ann")
    client = api(user)

    client.post("/me/identity", {"real_name": "Li Na", "id_number": "11010519491231002X"})
    response = client.post(
        "/me/identity", {"real_name": "Li Na", "id_number": "110105199003071239"}
    )

    assert response.status_code == 200
    assert IdentityVerification.objects.filter(user=user).count() == 1
    assert IdentityVerification.objects.get(user=user).id_number_masked == "110***********1239"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"real_name": "L", "id_number": "11010519491231002X"}, "invalid_real_name"),
        ({"real_name": "Li Na", "id_number": "1101051949123100"}, "invalid_id_number"),
        (
            {"real_name": "Li Na", "id_number": "１１０１０５１９４９１２３１００２１"},
            "invalid_id_number",
        ),
        ({"real_name": "Li Na"}, "invalid_input"),
        ({"real_name": "Li Na", "id_number": 110105491231002}, "invalid_input"),
        ({"real_name": "Li Na", "id_number": "1" * 31}, "invalid_input"),
    ],
)
def test_verify_identity_refuses_bad_input(api, payload, code):
    user = testing.make_user("ann")

    response = api(user).post("/me/identity", payload)

    assert response.status_code == 422
    assert error(response)["code"] == code
    assert not IdentityVerification.objects.exists()


def test_verify_identity_refuses_anonymous_callers(api):
    response = api().post("/me/identity", {"real_name": "Li Na", "id_number": "11010519491231002X"})

    assert response.status_code == 401
    assert error(response)["code"] == "not_authenticated"
    assert not IdentityVerification.objects.exists()
