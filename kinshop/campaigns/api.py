"""The campaigns operations of the API contract (section "Campaigns")."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.campaigns import queries, rules, services
from kinshop.campaigns.models import FlashSale, Group, GroupBuy
from kinshop.core import clock
from kinshop.core.api import error_responses
from kinshop.core.device import device_of
from kinshop.core.errors import NotFound
from kinshop.idempotency.api import idempotent
from kinshop.orders.api import AddressIn, OrderOut, order_out
from kinshop.sharing.cookie import share_code_of
from kinshop.shops import queries as shop_queries

router = Router(tags=["campaigns"])

MAX_FEN = 10**12


class GroupBuyIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    group_price: int = Field(..., ge=1, le=MAX_FEN)
    group_size: int = Field(..., ge=2, le=50)
    hours: int = Field(..., ge=1, le=72)
    ends_at: dt.datetime
    leader_price: int | None = Field(None, ge=1, le=MAX_FEN)


class GroupBuyOut(Schema):
    id: int
    shop: str
    sku_id: int
    group_price: int
    leader_price: int | None = None
    group_size: int
    hours: int
    ends_at: dt.datetime
    status: str
    currency: str


class GroupOut(Schema):
    id: int
    group_buy_id: int
    status: str
    size: int
    paid_members: int
    seats_left: int
    expires_at: dt.datetime
    price: int
    currency: str


class MemberIn(Schema):
    quantity: int = Field(1, ge=1, le=999)
    address: AddressIn
    share_code: str | None = Field(None, max_length=16)


class GroupOrderOut(Schema):
    group: GroupOut
    order: OrderOut


class FlashSaleIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    price: int = Field(..., ge=1, le=MAX_FEN)
    units: int = Field(..., ge=1, le=1_000_000)
    per_buyer_limit: int = Field(..., ge=1, le=1_000_000)
    starts_at: dt.datetime
    ends_at: dt.datetime
    payment_minutes: int = Field(..., ge=1, le=rules.MAX_PAYMENT_MINUTES)
    live_room_id: int | None = Field(None, ge=1, le=2**63 - 1)


class FlashSaleOut(Schema):
    id: int
    shop: str
    sku_id: int
    price: int
    units: int
    sold: int
    left: int
    paid: int
    per_buyer_limit: int
    payment_minutes: int
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    currency: str
    live_room_id: int | None = None
    ended_at: dt.datetime | None = None


def group_buy_out(group_buy: GroupBuy) -> dict:
    return {
        "id": group_buy.id,
        "shop": group_buy.shop.handle,
        "sku_id": group_buy.sku_id,
        "group_price": group_buy.group_price,
        "leader_price": group_buy.leader_price,
        "group_size": group_buy.group_size,
        "hours": group_buy.hours,
        "ends_at": group_buy.ends_at,
        "status": group_buy.status,
        "currency": settings.KINSHOP_CURRENCY,
    }


def group_out(group: Group) -> dict:
    allotment = group.allotment
    return {
        "id": group.pk,
        "group_buy_id": group.group_buy_id,
        "status": services.group_status(group),
        "size": allotment.limit,
        "paid_members": allotment.paid,
        "seats_left": allotment.limit - allotment.taken,
        "expires_at": group.expires_at,
        "price": group.group_buy.group_price,
        "currency": settings.KINSHOP_CURRENCY,
    }


def flash_sale_out(sale: FlashSale, *, paid: int | None = None) -> dict:
    """A flash sale as `get_flash_sale` answers it. `sold`: units in its orders
    not cancelled, paid or not (an unpaid order's units come back at its
    deadline); `left`: units a buyer can still claim (`units - sold`); `paid`:
    units in paid orders (refunds not taken off), read here unless the caller
    knows them (a sale just created has none). `status` is "ended" once its
    window is over or its shop ended it early (`ended_at`)."""
    allotment = sale.allotment
    if paid is None:
        paid = queries.flash_units_paid([sale.allotment_id]).get(sale.allotment_id, 0)
    return {
        "id": sale.id,
        "shop": sale.shop.handle,
        "sku_id": sale.sku_id,
        "price": sale.price,
        "units": sale.units,
        "sold": allotment.taken,
        "left": allotment.limit - allotment.taken,
        "paid": paid,
        "per_buyer_limit": sale.per_buyer_limit,
        "payment_minutes": sale.payment_minutes,
        "status": rules.flash_phase(
            starts_at=sale.starts_at, ends_at=sale.ends_at, ended_at=sale.ended_at, now=clock.now()
        ),
        "starts_at": sale.starts_at,
        "ends_at": sale.ends_at,
        "currency": settings.KINSHOP_CURRENCY,
        "live_room_id": sale.live_room_id,
        "ended_at": sale.ended_at,
    }


def _shop(handle: str):
    shop = shop_queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    return shop


@router.post(
    "/shops/{handle}/group-buys",
    operation_id="create_group_buy",
    response={201: GroupBuyOut, **error_responses(401, 403, 404, 409, 422)},
)
def create_group_buy(request, handle: str, payload: GroupBuyIn):
    with transaction.atomic():
        group_buy = services.create_group_buy(
            user=request.auth,
            shop=_shop(handle),
            sku_id=payload.sku_id,
            group_price=payload.group_price,
            group_size=payload.group_size,
            hours=payload.hours,
            ends_at=payload.ends_at,
            leader_price=payload.leader_price,
        )
    return Status(201, group_buy_out(group_buy))


@router.get(
    "/group-buys/{group_buy_id}",
    operation_id="get_group_buy",
    auth=None,
    response={200: GroupBuyOut, **error_responses(404)},
)
def get_group_buy(request, group_buy_id: int):
    return group_buy_out(queries.group_buy(group_buy_id))


@router.post(
    "/group-buys/{group_buy_id}/end",
    operation_id="end_group_buy",
    response={200: GroupBuyOut, **error_responses(401, 403, 404, 409)},
)
def end_group_buy(request, group_buy_id: int):
    with transaction.atomic():
        services.end_group_buy(user=request.auth, group_buy_id=group_buy_id)
    return group_buy_out(queries.group_buy(group_buy_id))


def _member(request, payload: MemberIn, operation: str, act) -> object:
    def place():
        group, order = act(
            user=request.auth,
            quantity=payload.quantity,
            address=services.Address(**payload.address.dict()),
            share_code=payload.share_code or share_code_of(request),
            device_id=device_of(request),
        )
        return {"group": group_out(group), "order": order_out(order)}

    return idempotent(
        request,
        operation=operation,
        payload=payload,
        schema=GroupOrderOut,
        status=201,
        action=place,
    )


@router.post(
    "/group-buys/{group_buy_id}/groups",
    operation_id="start_group",
    response={201: GroupOrderOut, 200: GroupOrderOut, **error_responses(400, 401, 404, 409, 422)},
)
def start_group(request, group_buy_id: int, payload: MemberIn):
    def act(**kwargs):
        return services.start_group(group_buy_id=group_buy_id, **kwargs)

    return _member(request, payload, f"start_group:{group_buy_id}", act)


@router.post(
    "/groups/{group_id}/members",
    operation_id="join_group",
    response={201: GroupOrderOut, 200: GroupOrderOut, **error_responses(400, 401, 404, 409, 422)},
)
def join_group(request, group_id: int, payload: MemberIn):
    def act(**kwargs):
        return services.join_group(group_id=group_id, **kwargs)

    return _member(request, payload, f"join_group:{group_id}", act)


@router.get(
    "/groups/{group_id}",
    operation_id="get_group",
    auth=None,
    response={200: GroupOut, **error_responses(404)},
)
def get_group(request, group_id: int):
    return group_out(queries.group(group_id))


@router.get(
    "/flash-sales/{sale_id}",
    operation_id="get_flash_sale",
    auth=None,
    response={200: FlashSaleOut, **error_responses(404)},
)
def get_flash_sale(request, sale_id: int):
    """A flash sale's offer and how it went: `sold` (units in orders not
    cancelled, paid or not), `left` (`units - sold`: what buyers can still
    claim), `paid` (units in paid orders) and its phase."""
    return flash_sale_out(queries.flash_sale(sale_id))


class BuyIn(Schema):
    quantity: int = Field(..., ge=1, le=999)
    address: AddressIn
    share_code: str | None = Field(None, max_length=16)


# create_flash_sale and buy_flash_sale are served by the live app's router
# (kinshop/live/api.py), which may check a deal's live room and attribute a
# purchase made in it; campaigns never imports live.


class PresaleIn(Schema):
    sku_id: int = Field(..., ge=1, le=2**62)
    price: int = Field(..., ge=1, le=MAX_FEN)
    deposit: int = Field(..., ge=1, le=MAX_FEN)
    balance_starts_at: dt.datetime
    balance_ends_at: dt.datetime
    ships_on: dt.date


class PresaleCreated(Schema):
    id: int


@router.post(
    "/shops/{handle}/presales",
    operation_id="create_presale",
    response={201: PresaleCreated, **error_responses(401, 403, 404, 409, 422)},
)
def create_presale(request, handle: str, payload: PresaleIn):
    with transaction.atomic():
        presale = services.create_presale(
            user=request.auth,
            shop=_shop(handle),
            sku_id=payload.sku_id,
            price=payload.price,
            deposit=payload.deposit,
            balance_starts_at=payload.balance_starts_at,
            balance_ends_at=payload.balance_ends_at,
            ships_on=payload.ships_on,
        )
    return Status(201, {"id": presale.id})


@router.post(
    "/presales/{presale_id}/orders",
    operation_id="buy_presale",
    response={201: OrderOut, 200: OrderOut, **error_responses(400, 401, 404, 409, 422)},
)
def buy_presale(request, presale_id: int, payload: BuyIn):
    def place():
        order = services.buy_presale(
            user=request.auth,
            presale_id=presale_id,
            quantity=payload.quantity,
            address=services.Address(**payload.address.dict()),
            share_code=payload.share_code or share_code_of(request),
            device_id=device_of(request),
        )
        return order_out(order)

    return idempotent(
        request,
        operation=f"buy_presale:{presale_id}",
        payload=payload,
        schema=OrderOut,
        status=201,
        action=place,
    )
