from __future__ import annotations

from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.accounts import services as accounts
from kinshop.catalog import rules as catalog_rules
from kinshop.catalog.queries import supplier_of
from kinshop.core.api import error_responses
from kinshop.core.errors import InvalidInput, NotFound
from kinshop.shops import queries, services

router = Router(tags=["shops"])

# `me` answers here, not in accounts: a user's roles come from what they are in
# the apps above accounts (the staff of a supplier, the keeper of a shop), and
# accounts never imports upwards.


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    roles: list[str]
    supplier_id: int | None = None
    shop_handle: str | None = None
    identity_verified: bool


@router.get("/me", operation_id="me", response={200: MeOut, **error_responses(401)})
def me(request):
    user = request.auth
    supplier = supplier_of(user)
    shop = queries.shop_of(user)
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.public_name,
        "roles": queries.roles_of(user),
        "supplier_id": supplier.id if supplier else None,
        "shop_handle": shop.handle if shop else None,
        "identity_verified": accounts.is_identity_verified(user),
    }


class ShopIn(Schema):
    handle: str = Field(..., min_length=1, max_length=30)
    name: str = Field(..., min_length=1, max_length=60)
    bio: str = Field("", max_length=2000)


class ShopOut(Schema):
    id: int
    handle: str
    name: str
    bio: str
    url: str


class SelectionIn(Schema):
    product_id: int
    prices: dict[str, int] = Field(default_factory=dict)


class SelectionSkuOut(Schema):
    sku_id: int
    name: str
    retail_price: int
    currency: str
    stock_state: str


class SelectionOut(Schema):
    product_id: int
    title: str
    supplier: str
    supplier_verified: bool
    image: str | None = None
    skus: list[SelectionSkuOut]


class StorefrontOut(ShopOut):
    keeper: str
    products: list[SelectionOut]


def shop_out(shop) -> dict:
    return {
        "id": shop.id,
        "handle": shop.handle,
        "name": shop.name,
        "bio": shop.bio,
        "url": f"/shop/{shop.handle}/",
    }


def selection_out(selection) -> dict:
    product = selection.product
    images = list(product.images.all())
    return {
        "product_id": product.id,
        "title": product.title,
        "supplier": product.supplier.name,
        "supplier_verified": product.supplier.is_verified,
        "image": images[0].image.url if images else None,
        "skus": [
            {
                "sku_id": price.sku_id,
                "name": price.sku.name,
                "retail_price": price.retail_price,
                "currency": price.sku.currency,
                "stock_state": catalog_rules.stock_state(price.sku.stock),
            }
            for price in selection.prices.all()
        ],
    }


def _parse_prices(prices: dict[str, int]) -> dict[int, int]:
    parsed = {}
    for key, value in prices.items():
        # ASCII and bounded: str.isdigit() also accepts "²" and 5000-digit keys,
        # which int() then refuses with a ValueError (a 500).
        if not (key.isascii() and key.isdigit() and len(key) <= 18):
            raise InvalidInput("Prices are keyed by SKU id.", code="invalid_sku_id")
        if not 0 <= value <= 10**12:
            raise InvalidInput("A price is a whole number of fen.", code="invalid_price")
        parsed[int(key)] = value
    return parsed


@router.post(
    "/shops",
    operation_id="open_shop",
    response={201: ShopOut, **error_responses(400, 401, 403, 409, 422)},
)
def open_shop(request, payload: ShopIn):
    with transaction.atomic():
        shop = services.open_shop(
            user=request.auth, handle=payload.handle, name=payload.name, bio=payload.bio
        )
    return Status(201, shop_out(shop))


@router.post(
    "/shops/{handle}/selections",
    operation_id="add_selection",
    response={201: SelectionOut, **error_responses(400, 401, 403, 404, 409, 422)},
)
def add_selection(request, handle: str, payload: SelectionIn):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    with transaction.atomic():
        selection = services.add_selection(
            user=request.auth,
            shop=shop,
            product_id=payload.product_id,
            prices=_parse_prices(payload.prices),
        )
    return Status(201, selection_out(queries.storefront_selections(shop).get(pk=selection.pk)))


@router.get(
    "/shops/{handle}",
    operation_id="get_shop",
    auth=None,
    response={200: StorefrontOut, **error_responses(404)},
)
def get_shop(request, handle: str):
    shop = queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    return {
        **shop_out(shop),
        "keeper": shop.owner.public_name,
        "products": [selection_out(s) for s in queries.storefront_selections(shop)],
    }
