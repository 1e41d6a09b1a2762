from __future__ import annotations

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.accounts import services
from kinshop.accounts.auth import BearerTokenAuth, sign_in
from kinshop.core.api import error_responses
from kinshop.core.device import device_of

router = Router(tags=["accounts"])


class RegisterIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=256)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=30)


class UserOut(Schema):
    id: int
    username: str


class TokenIn(Schema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=256)


class TokenOut(Schema):
    token: str


class IdentityIn(Schema):
    real_name: str = Field(..., max_length=60)
    id_number: str = Field(..., max_length=30)


class IdentityOut(Schema):
    real_name: str
    id_number_masked: str
    verified: bool


@router.post(
    "/accounts",
    operation_id="register",
    auth=None,
    response={201: UserOut, **error_responses(400, 409, 422)},
)
def register(request, payload: RegisterIn):
    with transaction.atomic():
        user = services.register(
            username=payload.username,
            password=payload.password,
            email=payload.email or "",
            phone=payload.phone or "",
            device_id=device_of(request),
        )
    return Status(201, user)


@router.post(
    "/auth/tokens",
    operation_id="create_token",
    auth=None,
    response={201: TokenOut, **error_responses(400, 401, 422, 429)},
)
def create_token(request, payload: TokenIn):
    # Signing in records a failure in its own transaction: it must stay recorded.
    user = sign_in(request, username=payload.username, password=payload.password)
    with transaction.atomic():
        _, token = services.issue_token(user=user, device_id=device_of(request))
    return Status(201, {"token": token})


@router.delete(
    "/auth/tokens/current",
    operation_id="revoke_token",
    auth=[BearerTokenAuth()],
    response={204: None, **error_responses(401)},
)
def revoke_token(request):
    """Revoke the bearer token this request was made with."""
    with transaction.atomic():
        services.revoke_token(token=request.api_token)
    return Status(204, None)


class PasswordChangeIn(Schema):
    old_password: str = Field(..., max_length=256)
    new_password: str = Field(..., max_length=256)


@router.post(
    "/me/password",
    operation_id="change_password",
    response={204: None, **error_responses(401, 403)},
)
def change_password(request, payload: PasswordChangeIn):
    """A new password (Django's validators apply); every token of the user is
    revoked, the one used for this request too."""
    with transaction.atomic():
        user = services.change_password(
            user=request.auth, old_password=payload.old_password, new_password=payload.new_password
        )
    if getattr(request, "api_token", None) is None:
        update_session_auth_hash(request, user)  # the browser session stays signed in
    return Status(204, None)


@router.post(
    "/me/identity",
    operation_id="verify_identity",
    response={200: IdentityOut, **error_responses(400, 401, 403, 422)},
)
def verify_identity(request, payload: IdentityIn):
    with transaction.atomic():
        identity = services.verify_identity(
            user=request.auth, real_name=payload.real_name, id_number=payload.id_number
        )
    return {
        "real_name": identity.real_name,
        "id_number_masked": identity.id_number_masked,
        "verified": True,
    }
