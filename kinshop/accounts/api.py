from __future__ import annotations

from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.accounts import services
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
    response={201: TokenOut, **error_responses(400, 401, 422)},
)
def create_token(request, payload: TokenIn):
    with transaction.atomic():
        _, token = services.create_token(
            username=payload.username,
            password=payload.password,
            device_id=device_of(request),
        )
    return Status(201, {"token": token})


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
