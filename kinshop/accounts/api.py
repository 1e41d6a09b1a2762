from __future__ import annotations

from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.accounts import services
from kinshop.core.api import error_responses

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


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    supplier_id: int | None = None
    shop_handle: str | None = None
    identity_verified: bool


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
        _, token = services.create_token(username=payload.username, password=payload.password)
    return Status(201, {"token": token})


@router.get("/me", operation_id="me", response={200: MeOut, **error_responses(401)})
def me(request):
    from kinshop.catalog.models import SupplierMembership
    from kinshop.shops.models import Shop

    user = request.auth
    membership = SupplierMembership.objects.filter(user=user).first()
    shop = Shop.objects.filter(owner=user).first()
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.public_name,
        "roles": services.roles(user),
        "supplier_id": membership.supplier_id if membership else None,
        "shop_handle": shop.handle if shop else None,
        "identity_verified": services.is_identity_verified(user),
    }


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
