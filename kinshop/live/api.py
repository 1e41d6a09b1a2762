"""The live rooms' JSON API. `live_events`, the Server-Sent Events stream, is an
async view of its own (streams.py) at its path; it is described in the OpenAPI
document by `OPENAPI_PATHS` below, which the project's API merges in."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from ninja import Field, Router, Schema, Status

from kinshop.campaigns import queries as campaign_queries
from kinshop.campaigns.api import BuyIn, FlashSaleIn, FlashSaleOut, flash_sale_out
from kinshop.core.api import ErrorOut, error_responses
from kinshop.core.device import device_of
from kinshop.core.errors import InvalidInput, NotFound
from kinshop.idempotency.api import idempotent
from kinshop.live import queries, services
from kinshop.live.hub import hub
from kinshop.live.models import LiveRoom
from kinshop.orders import services as order_services
from kinshop.orders.api import AddressIn, LineIn, OrderOut, order_out
from kinshop.sharing import services as sharing_services
from kinshop.sharing.api import ShareLinkIn, ShareLinkOut, link_out
from kinshop.sharing.cookie import share_code_of
from kinshop.shops import queries as shop_queries

router = Router(tags=["live"])


class RoomIn(Schema):
    title: str = Field(..., min_length=1, max_length=100)
    scheduled_at: dt.datetime
    stream_url: str = Field("", max_length=500)


class CardOut(Schema):
    product_id: int
    title: str
    price: int | None
    stock: int
    in_stock: bool


class DealOut(Schema):
    id: int
    sku_id: int
    title: str
    price: int
    units: int
    left: int
    per_buyer_limit: int
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime


class RoomOut(Schema):
    id: int
    status: str
    title: str
    shop: str
    stream_url: str
    scheduled_at: dt.datetime
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    pinned: list[CardOut]
    viewers_now: int
    last_event_id: int
    deals: list[DealOut]


class PinIn(Schema):
    product_id: int = Field(..., ge=1, le=2**63 - 1)


class MessageIn(Schema):
    text: str = Field(..., min_length=1, max_length=2000)


class IdOut(Schema):
    id: int


class MuteIn(Schema):
    user_id: int = Field(..., ge=1, le=2**63 - 1)


class MuteOut(Schema):
    user_id: int
    is_muted: bool


class LiveOrderIn(Schema):
    lines: list[LineIn] = Field(..., min_length=1, max_length=50)
    address: AddressIn


class SharerOut(Schema):
    user_id: int
    clicks: int
    orders: int
    gmv: int
    commission: int


class ReportOut(Schema):
    viewers: int
    peak_viewers: int
    orders: int
    buyers: int
    gmv: int
    currency: str
    conversion: float
    top_sharers: list[SharerOut]


def room_out(room: LiveRoom) -> dict:
    return {
        "id": room.pk,
        "status": room.status,
        "title": room.title,
        "shop": room.shop.handle,
        "stream_url": room.stream_url,
        "scheduled_at": room.scheduled_at,
        "started_at": room.started_at,
        "ended_at": room.ended_at,
        "pinned": queries.pinned_cards(room.pk, room.shop_id),
        "viewers_now": hub.viewers_now(room.pk) if room.status == LiveRoom.Status.LIVE else 0,
        "last_event_id": room.last_event_id,
        "deals": queries.room_deals(room.pk),
    }


@router.post(
    "/shops/{handle}/live-rooms",
    operation_id="create_live_room",
    response={201: RoomOut, **error_responses(401, 403, 404)},
)
def create_live_room(request, handle: str, payload: RoomIn):
    shop = shop_queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    with transaction.atomic():
        room = services.create_room(
            user=request.auth,
            shop=shop,
            title=payload.title,
            scheduled_at=payload.scheduled_at,
            stream_url=payload.stream_url,
        )
    return Status(201, room_out(room))


@router.post(
    "/live-rooms/{room_id}/start",
    operation_id="start_live",
    response={200: RoomOut, **error_responses(401, 403, 404, 409)},
)
def start_live(request, room_id: int):
    with transaction.atomic():
        room = services.start_room(user=request.auth, room_id=room_id)
    return room_out(room)


@router.post(
    "/live-rooms/{room_id}/end",
    operation_id="end_live",
    response={200: RoomOut, **error_responses(401, 403, 404, 409)},
)
def end_live(request, room_id: int):
    with transaction.atomic():
        room = services.end_room(user=request.auth, room_id=room_id)
    return room_out(room)


@router.get(
    "/live-rooms/{room_id}",
    operation_id="get_live_room",
    auth=None,
    response={200: RoomOut, **error_responses(404)},
)
def get_live_room(request, room_id: int):
    room = queries.room(room_id)
    if room is None:
        raise NotFound("No such live room.", code="live_room_not_found")
    return room_out(room)


@router.post(
    "/live-rooms/{room_id}/pins",
    operation_id="pin_product",
    response={201: CardOut, **error_responses(401, 403, 404, 409)},
)
def pin_product(request, payload: PinIn, room_id: int):
    with transaction.atomic():
        card = services.pin_product(
            user=request.auth, room_id=room_id, product_id=payload.product_id
        )
    return Status(201, card)


@router.delete(
    "/live-rooms/{room_id}/pins/{product_id}",
    operation_id="unpin_product",
    response={204: None, **error_responses(401, 403, 404)},
)
def unpin_product(request, room_id: int, product_id: int):
    with transaction.atomic():
        services.unpin_product(user=request.auth, room_id=room_id, product_id=product_id)
    return Status(204, None)


@router.post(
    "/live-rooms/{room_id}/messages",
    operation_id="post_live_message",
    response={201: IdOut, 429: ErrorOut, **error_responses(401, 403, 404, 409)},
)
def post_live_message(request, payload: MessageIn, room_id: int):
    with transaction.atomic():
        message = services.post_message(user=request.auth, room_id=room_id, text=payload.text)
    return Status(201, {"id": message.pk})


@router.post(
    "/live-rooms/{room_id}/mutes",
    operation_id="mute_viewer",
    response={201: MuteOut, **error_responses(401, 403, 404)},
)
def mute_viewer(request, payload: MuteIn, room_id: int):
    with transaction.atomic():
        participant = services.mute_viewer(
            user=request.auth, room_id=room_id, user_id=payload.user_id
        )
    return Status(201, {"user_id": participant.user_id, "is_muted": participant.is_muted})


@router.post(
    "/live-rooms/{room_id}/orders",
    operation_id="create_live_order",
    response={201: OrderOut, 200: OrderOut, **error_responses(401, 404, 409)},
)
def create_live_order(request, payload: LiveOrderIn, room_id: int):
    def place():
        room_order = services.place_room_order(
            buyer=request.auth,
            room_id=room_id,
            lines=[
                order_services.LineRequest(line.sku_id, line.quantity) for line in payload.lines
            ],
            address=order_services.Address(**payload.address.dict()),
            device_id=device_of(request),
        )
        return order_out(room_order.order)

    return idempotent(
        request,
        operation="create_live_order",
        payload=payload,
        schema=OrderOut,
        status=201,
        action=place,
    )


# ---- share links: served here so a live room's link is made where the room is
# checked (sharing, below live, keeps the room's id and never imports it) ------


@router.post(
    "/share-links",
    operation_id="create_share_link",
    tags=["sharing"],
    response={201: ShareLinkOut, **error_responses(400, 401, 404, 422)},
)
def create_share_link(request, payload: ShareLinkIn):
    shop = shop_queries.shop_by_handle(payload.shop.strip().lower())
    if shop is None:
        raise NotFound("No shop has this handle.", code="shop_not_found")
    with transaction.atomic():
        if payload.live_room_id is not None:
            if payload.product_id is not None:
                raise InvalidInput("Share a product or a live room, not both.", code="one_target")
            link = services.share_room(
                sharer=request.auth,
                room_id=payload.live_room_id,
                shop=shop,
                device_id=device_of(request),
            )
        else:
            link = sharing_services.create_share_link(
                sharer=request.auth,
                shop=shop,
                product=payload.product_id,
                device_id=device_of(request),
            )
    return Status(201, link_out(link))


# ---- flash sales: served here so a deal's room is checked and a purchase in it
# attributed to the room (campaigns, below live, never imports it) -------------


@router.post(
    "/shops/{handle}/flash-sales",
    operation_id="create_flash_sale",
    response={201: FlashSaleOut, **error_responses(401, 403, 404, 409, 422)},
)
def create_flash_sale(request, handle: str, payload: FlashSaleIn):
    shop = shop_queries.shop_by_handle(handle)
    if shop is None:
        raise NotFound("No such shop.", code="shop_not_found")
    with transaction.atomic():
        sale = services.create_flash_sale(
            user=request.auth,
            shop=shop,
            sku_id=payload.sku_id,
            price=payload.price,
            units=payload.units,
            per_buyer_limit=payload.per_buyer_limit,
            starts_at=payload.starts_at,
            ends_at=payload.ends_at,
            payment_minutes=payload.payment_minutes,
            live_room_id=payload.live_room_id,
        )
    return Status(201, flash_sale_out(sale, paid=0))


@router.post(
    "/flash-sales/{sale_id}/end",
    operation_id="end_flash_sale",
    response={200: FlashSaleOut, **error_responses(401, 403, 404, 409)},
)
def end_flash_sale(request, sale_id: int):
    with transaction.atomic():
        services.end_flash_sale(user=request.auth, sale_id=sale_id)
    return flash_sale_out(campaign_queries.flash_sale(sale_id))


@router.post(
    "/flash-sales/{sale_id}/orders",
    operation_id="buy_flash_sale",
    response={201: OrderOut, 200: OrderOut, **error_responses(400, 401, 404, 409, 422)},
)
def buy_flash_sale(request, sale_id: int, payload: BuyIn):
    def place():
        order = services.buy_flash_sale(
            user=request.auth,
            sale_id=sale_id,
            quantity=payload.quantity,
            address=order_services.Address(**payload.address.dict()),
            share_code=payload.share_code or share_code_of(request),
            device_id=device_of(request),
        )
        return order_out(order)

    return idempotent(
        request,
        operation=f"buy_flash_sale:{sale_id}",
        payload=payload,
        schema=OrderOut,
        status=201,
        action=place,
    )


@router.get(
    "/live-rooms/{room_id}/report",
    operation_id="live_report",
    response={200: ReportOut, **error_responses(401, 403, 404)},
)
def live_report(request, room_id: int):
    from django.conf import settings

    return {
        **services.report(user=request.auth, room_id=room_id),
        "currency": settings.KINSHOP_CURRENCY,
    }


# The stream's entry in the OpenAPI document (the view is streams.live_events).
OPENAPI_PATHS = {
    "/api/v1/live-rooms/{room_id}/events": {
        "get": {
            "operationId": "live_events",
            "summary": "Live Events",
            "tags": ["live"],
            "description": "A text/event-stream of the room's events (message, pin, deal, "
            "viewers, status, order). Events carry ids; a client reconnecting with "
            "Last-Event-ID gets what it missed, without gaps or duplicates. The stream "
            "closes after the room's `ended` status.",
            "parameters": [
                {
                    "in": "path",
                    "name": "room_id",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1},
                },
                {
                    "in": "header",
                    "name": "Last-Event-ID",
                    "required": False,
                    "schema": {"type": "string", "maxLength": 19},
                },
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"text/event-stream": {"schema": {"type": "string"}}},
                },
                "422": {
                    "description": "Unprocessable Entity",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                    },
                },
                "405": {
                    "description": "Method Not Allowed",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                    },
                },
                "404": {
                    "description": "Not Found",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
                    },
                },
            },
        }
    }
}
